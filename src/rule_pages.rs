//! Rule pages from `rules/`, compiled in by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/rule_pages.rs"));
