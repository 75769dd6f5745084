//! The timeline chart of `campaigns plot`: items per bucket as bars, dates in UTC along the
//! axis, surge alerts as markers, and the campaign's id, size and representative text as the
//! title. A fixed 900x360 SVG with a generic font family and no scripts, so it pastes into a
//! report as it is; [`timeline_png`] rasterises the same SVG.

use std::io;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use infodemic_core::{Alert, Campaign, CampaignEvent, CampaignId};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use resvg::tiny_skia;
use resvg::usvg;

use super::timeline::{align, campaign_timeline, Timeline};
use super::{one_line, truncate, ExportError, Result};

/// Width of the chart in SVG pixels.
pub const CHART_WIDTH: u32 = 900;
/// Height of the chart in SVG pixels.
pub const CHART_HEIGHT: u32 = 360;
/// How much larger than the SVG [`timeline_png`] draws: 2 gives 1800x720, sharp on high-DPI
/// screens and in print.
pub const PNG_SCALE: f32 = 2.0;

/// Most bars: about 11 pixels each at the chart's width, still readable.
const MAX_BARS: usize = 72;
/// Most date labels along the axis.
const MAX_LABELS: i64 = 8;
/// The plot area.
const LEFT: f64 = 60.0;
const RIGHT: f64 = 880.0;
const TOP: f64 = 72.0;
const BOTTOM: f64 = 296.0;
/// Columns of representative text in the subtitle (12px text over about 860 pixels).
const SUBTITLE_COLUMNS: usize = 120;

const BAR_COLOUR: &str = "#3d6fa8";
const ALERT_COLOUR: &str = "#c62828";
const TEXT_COLOUR: &str = "#222222";
const MUTED_COLOUR: &str = "#555555";
const GRID_COLOUR: &str = "#e3e3e3";

type Xml = Writer<Vec<u8>>;

/// The campaign's timeline chart as an SVG document. `alerts` may hold other campaigns'
/// alerts: only this campaign's (and those of campaigns it absorbed) are marked.
pub fn timeline_svg(campaign: &Campaign, alerts: &[Alert]) -> Result<String> {
    let timeline = campaign_timeline(campaign, MAX_BARS);
    let alerts = own_alerts(campaign, alerts, &timeline);
    let mut xml = Writer::new_with_indent(Vec::new(), b' ', 1);
    write_chart(&mut xml, campaign, &timeline, &alerts)?;
    // Only UTF-8 went in; a lossy conversion can therefore not lose anything.
    Ok(String::from_utf8_lossy(&xml.into_inner()).into_owned())
}

/// The same chart as PNG, [`PNG_SCALE`] times the SVG's size. Text is drawn with a sans-serif
/// font installed on this machine (DejaVu Sans, Liberation Sans, Arial, ...); without any
/// font the bars and markers are still drawn.
pub fn timeline_png(campaign: &Campaign, alerts: &[Alert]) -> Result<Vec<u8>> {
    svg_to_png(&timeline_svg(campaign, alerts)?, PNG_SCALE)
}

/// Rasterises an SVG document at `scale` times its size, on white. `<image>` elements are
/// ignored: the default resolver would read any file path an SVG names.
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>> {
    let (fontdb, family) = fonts();
    let no_images =
        usvg::ImageHrefResolver { resolve_data: Box::new(|_, _, _| None), resolve_string: Box::new(|_, _| None) };
    let options =
        usvg::Options { fontdb, font_family: family, image_href_resolver: no_images, ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|error| ExportError::Svg(Box::new(error)))?;
    let width = pixels(tree.size().width(), scale);
    let height = pixels(tree.size().height(), scale);
    let mut pixmap = tiny_skia::Pixmap::new(width, height).ok_or(ExportError::ImageSize { width, height })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|error| ExportError::Png(Box::new(error)))
}

/// `size * scale` rounded up to whole pixels; 0 (refused by the pixmap) when not a positive
/// finite number.
fn pixels(size: f32, scale: f32) -> u32 {
    let scaled = (size * scale).ceil();
    if scaled.is_finite() && scaled >= 1.0 && scaled <= u32::MAX as f32 {
        scaled as u32
    } else {
        0
    }
}

/// The system's fonts, loaded once, with the generic families pointed at a sans-serif face that
/// is there (fontdb's defaults name Arial and Times New Roman, often missing on Linux).
fn fonts() -> (Arc<usvg::fontdb::Database>, String) {
    static FONTS: OnceLock<(Arc<usvg::fontdb::Database>, String)> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut database = usvg::fontdb::Database::new();
            database.load_system_fonts();
            let installed: Vec<&str> =
                database.faces().flat_map(|face| face.families.iter().map(|(name, _)| name.as_str())).collect();
            let family = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "FreeSans"]
                .into_iter()
                .find(|wanted| installed.contains(wanted))
                .or_else(|| installed.first().copied())
                .unwrap_or("sans-serif")
                .to_owned();
            database.set_sans_serif_family(family.clone());
            database.set_serif_family(family.clone());
            (Arc::new(database), family)
        })
        .clone()
}

/// The alerts of `campaign` (or of campaigns merged into it) inside the timeline, oldest first.
fn own_alerts<'a>(campaign: &Campaign, alerts: &'a [Alert], timeline: &Timeline) -> Vec<&'a Alert> {
    let mut ids: Vec<CampaignId> = vec![campaign.id];
    ids.extend(campaign.history.iter().filter_map(|event| match event {
        CampaignEvent::Absorbed { from, .. } => Some(*from),
        _ => None,
    }));
    let (start, end) = (timeline.start(), timeline.end());
    let mut own: Vec<&Alert> =
        alerts.iter().filter(|alert| ids.contains(&alert.campaign) && alert.at >= start && alert.at <= end).collect();
    own.sort_by_key(|alert| (alert.at, alert.seq));
    own
}

/// `1 item`, `5 items`.
fn items(count: u32) -> String {
    if count == 1 {
        "1 item".to_owned()
    } else {
        format!("{count} items")
    }
}

/// A number for an attribute: one decimal at most.
fn num(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

fn empty(xml: &mut Xml, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
    xml.create_element(name).with_attributes(attributes.iter().copied()).write_empty()?;
    Ok(())
}

/// An element holding text; the writer escapes it, and callers pass feed text through
/// [`one_line`] first, since escaping cannot make a control character legal XML.
fn text(xml: &mut Xml, name: &str, attributes: &[(&str, &str)], content: &str) -> io::Result<()> {
    xml.create_element(name).with_attributes(attributes.iter().copied()).write_text_content(BytesText::new(content))?;
    Ok(())
}

fn utc(time: DateTime<Utc>, format: &str) -> String {
    time.format(format).to_string()
}

/// A tick step for the y axis: 1, 2 or 5 times a power of ten, at most five steps to `max`.
fn y_step(max: u32) -> u32 {
    let mut magnitude = 1u32;
    loop {
        for factor in [1u32, 2, 5] {
            let step = factor.saturating_mul(magnitude);
            if max.div_ceil(step) <= 5 || step == u32::MAX {
                return step;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// Hours between date labels: a round step, a multiple of the bucket width, giving at most
/// [`MAX_LABELS`] labels; `None` when no round step fits (then every k-th bucket is labelled).
fn label_step(timeline: &Timeline) -> Option<i64> {
    let span = timeline.bucket_hours.saturating_mul(i64::try_from(timeline.counts.len()).unwrap_or(i64::MAX));
    [1i64, 2, 3, 6, 12, 24, 48, 72, 168, 336, 672, 1344, 2688]
        .into_iter()
        .filter(|step| step % timeline.bucket_hours == 0)
        .find(|step| span / step <= MAX_LABELS)
}

fn write_chart(xml: &mut Xml, campaign: &Campaign, timeline: &Timeline, alerts: &[&Alert]) -> io::Result<()> {
    let (width, height) = (CHART_WIDTH.to_string(), CHART_HEIGHT.to_string());
    let view_box = format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}");
    let unit = timeline.unit();
    let range = format!("{} – {} UTC", utc(timeline.start(), "%Y-%m-%d %H:%M"), utc(timeline.end(), "%Y-%m-%d %H:%M"));
    let representative = truncate(&campaign.representative.text, SUBTITLE_COLUMNS);

    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    xml.create_element("svg")
        .with_attributes([
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", width.as_str()),
            ("height", height.as_str()),
            ("viewBox", view_box.as_str()),
            ("font-family", "sans-serif"),
            ("role", "img"),
        ])
        .write_inner_content(|xml| {
            text(
                xml,
                "title",
                &[],
                &format!("Campaign {}: {}", campaign.id, truncate(&campaign.representative.text, 200)),
            )?;
            let desc = format!("Items per {unit}, {range}; {} surge alerts.", alerts.len());
            text(xml, "desc", &[], &desc)?;
            empty(xml, "rect", &[("width", &width), ("height", &height), ("fill", "#ffffff")])?;

            let mut heading =
                format!("{} · {} · {} sources", campaign.id, items(campaign.size), campaign.sources.len());
            if !campaign.accounts.is_empty() {
                heading.push_str(&format!(" · {} accounts", campaign.accounts.len()));
            }
            heading.push_str(&format!(" · {}", super::status_text(campaign)));
            let bold = [("x", "16"), ("y", "26"), ("font-size", "16"), ("font-weight", "bold"), ("fill", TEXT_COLOUR)];
            text(xml, "text", &bold, &one_line(&heading))?;
            let subtitle = [("x", "16"), ("y", "47"), ("font-size", "12"), ("fill", MUTED_COLOUR)];
            text(xml, "text", &subtitle, &format!("“{representative}”"))?;

            write_y_axis(xml, timeline)?;
            write_bars(xml, timeline)?;
            write_x_axis(xml, timeline)?;
            write_alerts(xml, timeline, alerts)?;

            let caption = format!("Items per {unit}, {range}");
            let middle = num((LEFT + RIGHT) / 2.0);
            let attributes = [
                ("x", middle.as_str()),
                ("y", "346"),
                ("font-size", "12"),
                ("text-anchor", "middle"),
                ("fill", MUTED_COLOUR),
            ];
            text(xml, "text", &attributes, &caption)
        })?;
    Ok(())
}

/// The y scale's top value and step.
fn y_scale(timeline: &Timeline) -> (u32, u32) {
    let max = timeline.max().max(1);
    let step = y_step(max);
    (max.div_ceil(step).saturating_mul(step).max(step), step)
}

fn write_y_axis(xml: &mut Xml, timeline: &Timeline) -> io::Result<()> {
    let (top, step) = y_scale(timeline);
    let mut value = 0u32;
    while value <= top {
        let y = num(BOTTOM - f64::from(value) / f64::from(top) * (BOTTOM - TOP));
        let (left, right) = (num(LEFT), num(RIGHT));
        let colour = if value == 0 { MUTED_COLOUR } else { GRID_COLOUR };
        empty(xml, "line", &[("x1", &left), ("x2", &right), ("y1", &y), ("y2", &y), ("stroke", colour)])?;
        let label_x = num(LEFT - 6.0);
        let label_y = num(BOTTOM - f64::from(value) / f64::from(top) * (BOTTOM - TOP) + 4.0);
        let attributes = [
            ("x", label_x.as_str()),
            ("y", label_y.as_str()),
            ("font-size", "11"),
            ("text-anchor", "end"),
            ("fill", MUTED_COLOUR),
        ];
        text(xml, "text", &attributes, &value.to_string())?;
        match value.checked_add(step) {
            Some(next) => value = next,
            None => break,
        }
    }
    Ok(())
}

fn bucket_width(timeline: &Timeline) -> f64 {
    (RIGHT - LEFT) / timeline.counts.len().max(1) as f64
}

fn write_bars(xml: &mut Xml, timeline: &Timeline) -> io::Result<()> {
    let (top, _) = y_scale(timeline);
    let slot = bucket_width(timeline);
    let gap = (slot * 0.15).min(2.0);
    let label_format = if timeline.is_daily() { "%Y-%m-%d" } else { "%Y-%m-%d %H:%M" };
    xml.create_element("g").with_attribute(("fill", BAR_COLOUR)).write_inner_content(|xml| {
        for (index, count) in timeline.counts.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            // At least one pixel, so that a single item next to a large burst stays visible.
            let bar_height = (f64::from(*count) / f64::from(top) * (BOTTOM - TOP)).max(1.0);
            let x = num(LEFT + index as f64 * slot + gap / 2.0);
            let y = num(BOTTOM - bar_height);
            let (bar_width, bar_height) = (num((slot - gap).max(0.5)), num(bar_height));
            let tooltip = format!("{} UTC: {}", utc(timeline.bucket_start(index), label_format), items(*count));
            xml.create_element("rect")
                .with_attributes([
                    ("x", x.as_str()),
                    ("y", y.as_str()),
                    ("width", bar_width.as_str()),
                    ("height", bar_height.as_str()),
                ])
                .write_inner_content(|xml| text(xml, "title", &[], &tooltip))?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_x_axis(xml: &mut Xml, timeline: &Timeline) -> io::Result<()> {
    let slot = bucket_width(timeline);
    let step = label_step(timeline);
    let every = (i64::try_from(timeline.counts.len()).unwrap_or(i64::MAX) + MAX_LABELS - 1) / MAX_LABELS;
    let daily_labels = step.map_or(timeline.is_daily(), |step| step % 24 == 0);
    let format = if daily_labels { "%Y-%m-%d" } else { "%m-%d %H:%M" };
    // Boundaries 0..=len: the end of the last bucket can carry a label too.
    for index in 0..=timeline.counts.len() {
        let position = i64::try_from(index).unwrap_or(i64::MAX);
        let hour = timeline.start_hour.saturating_add(position.saturating_mul(timeline.bucket_hours));
        let labelled = match step {
            Some(step) => align(hour, step) == hour,
            None => position % every.max(1) == 0,
        };
        if !labelled {
            continue;
        }
        let x = num(LEFT + index as f64 * slot);
        let (tick_top, tick_bottom) = (num(BOTTOM), num(BOTTOM + 5.0));
        empty(
            xml,
            "line",
            &[("x1", &x), ("x2", &x), ("y1", &tick_top), ("y2", &tick_bottom), ("stroke", MUTED_COLOUR)],
        )?;
        let label = utc(timeline.bucket_start(index), format);
        // Kept inside the chart: labels at the edges are anchored at their end or start.
        let half_width = label.chars().count() as f64 * 3.3;
        let anchor = match LEFT + index as f64 * slot {
            x if x + half_width > f64::from(CHART_WIDTH) - 4.0 => "end",
            x if x - half_width < 4.0 => "start",
            _ => "middle",
        };
        let label_y = num(BOTTOM + 19.0);
        let attributes = [
            ("x", x.as_str()),
            ("y", label_y.as_str()),
            ("font-size", "11"),
            ("text-anchor", anchor),
            ("fill", MUTED_COLOUR),
        ];
        text(xml, "text", &attributes, &label)?;
    }
    Ok(())
}

fn write_alerts(xml: &mut Xml, timeline: &Timeline, alerts: &[&Alert]) -> io::Result<()> {
    if alerts.is_empty() {
        return Ok(());
    }
    let start = timeline.start().timestamp() as f64;
    let span = (timeline.end().timestamp() as f64 - start).max(1.0);
    for alert in alerts {
        let x = LEFT + (alert.at.timestamp() as f64 - start) / span * (RIGHT - LEFT);
        let marker = format!(
            "M{},{}L{},{}L{},{}Z",
            num(x - 5.0),
            num(TOP - 9.0),
            num(x + 5.0),
            num(TOP - 9.0),
            num(x),
            num(TOP - 1.0)
        );
        let tooltip = format!(
            "Alert {} ({}) at {} UTC, size {}: {}",
            alert.seq,
            one_line(&alert.kind),
            utc(alert.at, "%Y-%m-%d %H:%M"),
            alert.size,
            truncate(&alert.summary, 300)
        );
        let (x, top, bottom) = (num(x), num(TOP), num(BOTTOM));
        xml.create_element("g")
            .with_attributes([("stroke", ALERT_COLOUR), ("fill", ALERT_COLOUR)])
            .write_inner_content(|xml| {
                text(xml, "title", &[], &tooltip)?;
                empty(
                    xml,
                    "line",
                    &[("x1", &x), ("x2", &x), ("y1", &top), ("y2", &bottom), ("stroke-dasharray", "4 3")],
                )?;
                empty(xml, "path", &[("d", &marker)])
            })?;
    }
    // The legend, top right.
    let (legend_x, legend_y) = (RIGHT - 90.0, TOP - 13.0);
    let legend_marker = format!(
        "M{},{}L{},{}L{},{}Z",
        num(legend_x - 14.0),
        num(legend_y - 8.0),
        num(legend_x - 4.0),
        num(legend_y - 8.0),
        num(legend_x - 9.0),
        num(legend_y)
    );
    empty(xml, "path", &[("d", &legend_marker), ("fill", ALERT_COLOUR)])?;
    let (x, y) = (num(legend_x), num(legend_y));
    let label = format!("surge alert{} ({})", if alerts.len() == 1 { "" } else { "s" }, alerts.len());
    text(xml, "text", &[("x", &x), ("y", &y), ("font-size", "11"), ("fill", ALERT_COLOUR)], &label)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::export::fixtures::{alert, campaign, parse_xml};

    #[test]
    fn hostile_text_is_escaped_and_controls_removed() {
        let svg = timeline_svg(&campaign(12, 30), &[alert(12, 1, 5)]).unwrap();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("Vaccines &amp; [2Jmagnets shed spike"));
        assert!(svg.contains("surge &lt;b&gt;&amp;&lt;/b&gt; ]52;c;x more"));
        for c in svg.chars() {
            assert!(!c.is_control() || c == '\n', "control character {c:?} in the SVG");
        }
        assert!(!svg.contains('\u{202e}'));
        let parsed = parse_xml(&svg);
        assert_eq!(parsed.count("script"), 0);
        assert!(parsed.texts.iter().any(|text| text.contains("<script>alert(1)</script> Vaccines & [2Jmagnets")));
    }

    #[test]
    fn chart_has_title_bars_labels_and_alert_markers() {
        let svg = timeline_svg(&campaign(12, 30), &[alert(12, 1, 5), alert(12, 2, 20), alert(99, 3, 6)]).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains(r#"width="900" height="360" viewBox="0 0 900 360" font-family="sans-serif""#));
        let parsed = parse_xml(&svg);
        let texts = &parsed.texts;
        // 31 hourly buckets, every third empty: 21 bars, each with a tooltip.
        assert_eq!(parsed.count("rect"), 1 + 21);
        assert!(texts
            .iter()
            .any(|text| text.starts_with("c12 · ") && text.contains(" items · 3 sources · 2 accounts · active")));
        // Only campaign 12's alerts are marked.
        assert!(texts.iter().any(|text| text == "surge alerts (2)"));
        assert_eq!(texts.iter().filter(|text| text.starts_with("Alert ")).count(), 2);
        assert!(texts.iter().any(|text| text == "Items per hour, 2026-03-02 00:00 – 2026-03-03 07:00 UTC"));
        assert!(texts.iter().any(|text| text == "03-02 06:00"), "{texts:?}");
        assert_eq!(parsed.count("script") + parsed.count("image") + parsed.count("style") + parsed.count("a"), 0);
    }

    #[test]
    fn long_campaigns_get_daily_bars() {
        let svg = timeline_svg(&campaign(4, 24 * 60), &[]).unwrap();
        let parsed = parse_xml(&svg);
        let texts = &parsed.texts;
        assert!(texts.iter().any(|text| text.starts_with("Items per day, ")), "{texts:?}");
        let bars = parsed.count("rect") - 1;
        assert!((50..=MAX_BARS).contains(&bars), "{bars} bars");
        let labels = texts.iter().filter(|text| text.len() == 10 && text.starts_with("2026-")).count();
        assert!((3..=MAX_LABELS as usize + 1).contains(&labels), "{labels} labels");
    }

    #[test]
    fn y_steps_are_round() {
        assert_eq!(y_step(1), 1);
        assert_eq!(y_step(5), 1);
        assert_eq!(y_step(7), 2);
        assert_eq!(y_step(23), 5);
        assert_eq!(y_step(480), 100);
        assert!(y_step(u32::MAX) > 0);
    }

    #[test]
    fn png_is_a_real_image_of_the_chart() {
        let png = timeline_png(&campaign(12, 30), &[alert(12, 1, 5)]).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png.len() > 5_000, "{} bytes", png.len());
        // Decoded: twice the SVG's size, with the bars' and the alert marker's colours in it
        // (text depends on the machine's fonts, the shapes do not).
        let image = tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((image.width(), image.height()), (CHART_WIDTH * 2, CHART_HEIGHT * 2));
        let pixels = image.pixels();
        let count =
            |rgb: (u8, u8, u8)| pixels.iter().filter(|pixel| (pixel.red(), pixel.green(), pixel.blue()) == rgb).count();
        assert!(count((0x3d, 0x6f, 0xa8)) > 50_000, "bars");
        assert!(count((0xc6, 0x28, 0x28)) > 100, "alert marker");
        assert!(count((0xff, 0xff, 0xff)) > pixels.len() / 3, "background");
    }

    #[test]
    fn rasteriser_rejects_what_is_not_svg() {
        assert!(matches!(svg_to_png("not svg", 1.0), Err(ExportError::Svg(_))));
        let tiny = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#;
        assert!(matches!(svg_to_png(tiny, 0.0), Err(ExportError::ImageSize { .. })));
    }
}
