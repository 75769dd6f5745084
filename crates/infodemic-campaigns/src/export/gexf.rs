//! The coordination network as GEXF 1.3 (<http://gexf.net/1.3>), the format Gephi opens:
//! accounts are nodes, an edge joins two accounts that shared the same objects within the
//! coordination window, weighted by how often.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use infodemic_core::CampaignId;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{one_line, ExportError, Result};

/// One undirected edge of the coordination network.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkEdge {
    /// One account.
    pub account_a: String,
    /// The other.
    pub account_b: String,
    /// Strength of the tie, e.g. the number of coordinated shares.
    pub weight: f64,
    /// What both shared (URLs, hashtags, texts).
    pub objects: Vec<String>,
    /// The items that show it.
    pub items: Vec<String>,
}

/// Separator between the entries of a list attribute.
const SEPARATOR: &str = "; ";

/// One node: its label and, where given, its campaigns.
struct Node<'a> {
    account: &'a str,
    campaigns: Option<&'a [CampaignId]>,
}

/// One merged edge between two node indices (lower first). Objects and items are sets, so that
/// the file does not depend on the order edges came in.
struct Edge<'a> {
    weight: f64,
    objects: BTreeSet<&'a str>,
    items: BTreeSet<&'a str>,
}

/// Writes the network as GEXF 1.3: one node per account in `edges` (id `n0`, `n1`, ... and the
/// account as its label) and one undirected edge per pair. Edges given twice (either way
/// round) are merged, adding their weights; self-loops are left out. `node_campaigns` (account
/// to campaign ids), when given, becomes the node attribute `campaigns`.
pub fn write_gexf<W: Write>(
    out: W,
    edges: &[NetworkEdge],
    node_campaigns: Option<&BTreeMap<String, Vec<CampaignId>>>,
) -> Result<()> {
    // Nodes get ids in sorted account order, so the output does not depend on edge order.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for edge in edges {
        if !edge.weight.is_finite() {
            return Err(ExportError::NonFiniteWeight {
                account_a: edge.account_a.clone(),
                account_b: edge.account_b.clone(),
                weight: edge.weight,
            });
        }
        if edge.account_a != edge.account_b {
            index.insert(&edge.account_a, 0);
            index.insert(&edge.account_b, 0);
        }
    }
    for (position, slot) in index.values_mut().enumerate() {
        *slot = position;
    }
    let nodes: Vec<Node<'_>> = index
        .keys()
        .map(|account| Node { account, campaigns: node_campaigns.and_then(|map| map.get(*account)).map(Vec::as_slice) })
        .collect();
    let mut merged: BTreeMap<(usize, usize), Edge<'_>> = BTreeMap::new();
    for edge in edges {
        let (Some(a), Some(b)) = (index.get(edge.account_a.as_str()), index.get(edge.account_b.as_str())) else {
            continue;
        };
        if a == b {
            continue;
        }
        let entry = merged.entry(((*a).min(*b), (*a).max(*b))).or_insert_with(|| Edge {
            weight: 0.0,
            objects: BTreeSet::new(),
            items: BTreeSet::new(),
        });
        entry.weight += edge.weight;
        entry.objects.extend(edge.objects.iter().map(String::as_str));
        entry.items.extend(edge.items.iter().map(String::as_str));
    }
    let mut xml = Writer::new_with_indent(out, b' ', 2);
    write_document(&mut xml, &nodes, &merged, node_campaigns.is_some())?;
    xml.into_inner().flush()?;
    Ok(())
}

/// [`write_gexf`] into a string.
pub fn gexf(edges: &[NetworkEdge], node_campaigns: Option<&BTreeMap<String, Vec<CampaignId>>>) -> Result<String> {
    let mut out = Vec::new();
    write_gexf(&mut out, edges, node_campaigns)?;
    // Only UTF-8 went in.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn join<'a, T: AsRef<str> + 'a>(values: impl IntoIterator<Item = &'a T>) -> String {
    values.into_iter().map(|value| one_line(value.as_ref())).collect::<Vec<_>>().join(SEPARATOR)
}

/// An `<attributes>` block declaring `(id, title, type)` columns.
fn declare<W: Write>(xml: &mut Writer<W>, class: &str, columns: &[(&str, &str, &str)]) -> io::Result<()> {
    xml.create_element("attributes").with_attributes([("class", class), ("mode", "static")]).write_inner_content(
        |xml| {
            for (id, title, kind) in columns {
                xml.create_element("attribute")
                    .with_attributes([("id", *id), ("title", *title), ("type", *kind)])
                    .write_empty()?;
            }
            Ok(())
        },
    )?;
    Ok(())
}

/// An `<attvalues>` block of `(attribute id, value)`.
fn values<W: Write>(xml: &mut Writer<W>, values: &[(&str, String)]) -> io::Result<()> {
    xml.create_element("attvalues").write_inner_content(|xml| {
        for (id, value) in values {
            xml.create_element("attvalue").with_attributes([("for", *id), ("value", value.as_str())]).write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_document<W: Write>(
    xml: &mut Writer<W>,
    nodes: &[Node<'_>],
    edges: &BTreeMap<(usize, usize), Edge<'_>>,
    with_campaigns: bool,
) -> io::Result<()> {
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    xml.create_element("gexf")
        .with_attributes([
            ("xmlns", "http://gexf.net/1.3"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd"),
            ("version", "1.3"),
        ])
        .write_inner_content(|xml| {
            xml.create_element("meta").write_inner_content(|xml| {
                xml.create_element("creator").write_text_content(BytesText::new("infodemic"))?;
                let description =
                    "Coordination network: accounts that shared the same objects within the coordination window";
                xml.create_element("description").write_text_content(BytesText::new(description))?;
                Ok(())
            })?;
            xml.create_element("graph")
                .with_attributes([("mode", "static"), ("defaultedgetype", "undirected")])
                .write_inner_content(|xml| {
                    // Ids are short numbers as Gephi's own files use; titles name the columns.
                    if with_campaigns {
                        declare(xml, "node", &[("0", "campaigns", "string"), ("1", "campaign_count", "integer")])?;
                    }
                    declare(
                        xml,
                        "edge",
                        &[
                            ("0", "objects", "string"),
                            ("1", "object_count", "integer"),
                            ("2", "items", "string"),
                            ("3", "item_count", "integer"),
                        ],
                    )?;
                    write_nodes(xml, nodes, with_campaigns)?;
                    write_edges(xml, edges)
                })?;
            Ok(())
        })?;
    Ok(())
}

fn write_nodes<W: Write>(xml: &mut Writer<W>, nodes: &[Node<'_>], with_campaigns: bool) -> io::Result<()> {
    let count = nodes.len().to_string();
    xml.create_element("nodes").with_attribute(("count", count.as_str())).write_inner_content(|xml| {
        for (position, node) in nodes.iter().enumerate() {
            let (id, label) = (format!("n{position}"), one_line(node.account));
            let element = xml.create_element("node").with_attributes([("id", id.as_str()), ("label", label.as_str())]);
            if with_campaigns {
                let campaigns = node.campaigns.unwrap_or_default();
                let names: Vec<String> = campaigns.iter().map(ToString::to_string).collect();
                element.write_inner_content(|xml| {
                    values(xml, &[("0", join(&names)), ("1", campaigns.len().to_string())])
                })?;
            } else {
                element.write_empty()?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

fn write_edges<W: Write>(xml: &mut Writer<W>, edges: &BTreeMap<(usize, usize), Edge<'_>>) -> io::Result<()> {
    let count = edges.len().to_string();
    xml.create_element("edges").with_attribute(("count", count.as_str())).write_inner_content(|xml| {
        for (position, ((a, b), edge)) in edges.iter().enumerate() {
            let (id, source, target, weight) =
                (format!("e{position}"), format!("n{a}"), format!("n{b}"), edge.weight.to_string());
            xml.create_element("edge")
                .with_attributes([
                    ("id", id.as_str()),
                    ("source", source.as_str()),
                    ("target", target.as_str()),
                    ("weight", weight.as_str()),
                ])
                .write_inner_content(|xml| {
                    values(
                        xml,
                        &[
                            ("0", join(edge.objects.iter())),
                            ("1", edge.objects.len().to_string()),
                            ("2", join(edge.items.iter())),
                            ("3", edge.items.len().to_string()),
                        ],
                    )
                })?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::export::fixtures::parse_xml;

    fn edge(a: &str, b: &str, weight: f64, objects: &[&str]) -> NetworkEdge {
        NetworkEdge {
            account_a: a.into(),
            account_b: b.into(),
            weight,
            objects: objects.iter().map(|object| (*object).to_owned()).collect(),
            items: vec![format!("{}-{}-item", a.min(b), a.max(b))],
        }
    }

    #[test]
    fn parses_back_with_nodes_edges_and_attributes() {
        let edges = [
            edge("@alice", "@bob", 3.0, &["https://x.example/?a=1&b=2", "#vaxx"]),
            edge("@bob", "<carol & \"dave\">", 1.5, &["\u{1b}]52;c;evil\u{7}"]),
            // The same pair the other way round, and a self-loop.
            edge("@bob", "@alice", 2.0, &["#vaxx", "#more"]),
            edge("@alice", "@alice", 9.0, &["x"]),
        ];
        let campaigns = BTreeMap::from([
            ("@alice".to_owned(), vec![CampaignId(1), CampaignId(4)]),
            ("<carol & \"dave\">".to_owned(), vec![CampaignId(4)]),
        ]);
        let text = gexf(&edges, Some(&campaigns)).unwrap();
        let parsed = parse_xml(&text);
        assert_eq!(parsed.values("gexf", "xmlns"), ["http://gexf.net/1.3"]);
        assert_eq!(parsed.values("gexf", "version"), ["1.3"]);
        assert_eq!(parsed.values("graph", "defaultedgetype"), ["undirected"]);
        assert_eq!(parsed.count("node"), 3);
        assert_eq!(parsed.count("edge"), 2);
        assert_eq!(parsed.values("nodes", "count"), ["3"]);
        assert_eq!(parsed.values("node", "label"), ["<carol & \"dave\">", "@alice", "@bob"]);
        assert_eq!(parsed.values("edge", "weight"), ["1.5", "5"]);
        assert_eq!(parsed.values("edge", "source"), ["n0", "n1"]);
        assert_eq!(parsed.values("edge", "target"), ["n2", "n2"]);
        let attribute_values = parsed.values("attvalue", "value");
        assert!(attribute_values.contains(&"#more; #vaxx; https://x.example/?a=1&b=2"), "{attribute_values:?}");
        assert!(attribute_values.contains(&"]52;c;evil"));
        assert!(attribute_values.contains(&"c1; c4"));
        assert_eq!(
            parsed.values("attribute", "title"),
            ["campaigns", "campaign_count", "objects", "object_count", "items", "item_count"]
        );
        assert_eq!(parsed.values("attributes", "class"), ["node", "edge"]);
        assert!(text.contains("&lt;carol &amp; &quot;dave&quot;&gt;"));
    }

    #[test]
    fn order_of_edges_does_not_change_the_file() {
        let forward = [edge("a", "b", 1.0, &["x"]), edge("c", "b", 2.0, &["y"])];
        let backward = [edge("b", "c", 2.0, &["y"]), edge("b", "a", 1.0, &["x"])];
        assert_eq!(gexf(&forward, None).unwrap(), gexf(&backward, None).unwrap());
    }

    #[test]
    fn empty_networks_are_valid_and_bad_weights_are_refused() {
        let parsed = parse_xml(&gexf(&[], None).unwrap());
        assert_eq!((parsed.count("nodes"), parsed.count("edges"), parsed.count("node")), (1, 1, 0));
        assert_eq!(parsed.count("attributes"), 1);
        let error = gexf(&[edge("a", "b", f64::NAN, &[])], None).unwrap_err();
        assert!(matches!(error, ExportError::NonFiniteWeight { .. }), "{error}");
    }
}
