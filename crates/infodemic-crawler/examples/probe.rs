fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap();
        let t = infodemic_crawler::dialect::translate(&bytes);
        match feed_rs::parser::parse(t.as_deref().unwrap_or(&bytes)) {
            Ok(f) => {
                println!("{path}: {:?} entries {}", f.feed_type, f.entries.len());
                for e in f.entries.iter().take(3) {
                    println!(
                        "   id={:?} title={:?} links={:?} summary={:?} content={:?}",
                        e.id,
                        e.title.as_ref().map(|t| &t.content),
                        e.links.iter().map(|l| &l.href).collect::<Vec<_>>(),
                        e.summary.as_ref().map(|s| s.content.chars().take(60).collect::<String>()),
                        e.content
                            .as_ref()
                            .and_then(|c| c.body.as_ref())
                            .map(|b| b.chars().take(60).collect::<String>())
                    );
                }
            }
            Err(e) => println!("{path}: ERR {e}"),
        }
    }
}
