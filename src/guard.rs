//! Containing chlint's own bugs: a panic while reading one file or checking
//! one server becomes an internal error for that file or server (exit code
//! 2), and the rest of the run goes on.
//!
//! The first use installs a panic hook that, inside [`catch`], records the
//! panic's message and location instead of printing them; outside, it
//! defers to the hook that was there before (test harnesses keep theirs).

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static GUARDED: Cell<usize> = const { Cell::new(0) };
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

fn install() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) == 0 {
                previous(info);
                return;
            }
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            LAST.with(|l| *l.borrow_mut() = Some(format!("{message}{at}")));
        }));
    });
}

/// Run `f`; a panic inside it comes back as `Err` with its message and
/// location.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install();
    GUARDED.with(|g| g.set(g.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get() - 1));
    result.map_err(|_| {
        LAST.with(|l| l.borrow_mut().take())
            .unwrap_or_else(|| "panic".to_string())
    })
}

/// For tests: a panic in chlint's own code, on demand, in debug builds only.
/// `CHLINT_DEBUG_PANIC=NAME` panics while reading a file named NAME.
pub fn debug_panic_point(file_name: &std::path::Path) {
    if cfg!(debug_assertions) {
        if let Some(name) = std::env::var_os("CHLINT_DEBUG_PANIC") {
            if file_name.file_name() == Some(name.as_os_str()) {
                panic!("CHLINT_DEBUG_PANIC: deliberate panic");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_location() {
        let err = catch(|| -> u8 { panic!("boom {}", 1) }).unwrap_err();
        assert!(err.starts_with("boom 1 at src/guard.rs:"), "{err}");
        assert_eq!(catch(|| 7), Ok(7));
        // Nested guards unwind to the innermost.
        let outer = catch(|| catch(|| -> u8 { panic!("inner") }).unwrap_err());
        assert!(outer.unwrap().starts_with("inner"));
    }
}
