fn main() {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let r = infodemic_crawler::repair::repair_xml(&bytes).unwrap();
    println!("{}", String::from_utf8_lossy(&r));
}
