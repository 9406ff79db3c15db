//! Files named on the command line (`--config`, `--baseline`,
//! `--write-baseline`) and the configuration file found in a repository.
//! A pull request controls their content and can replace them with a link
//! or a FIFO, so they are read and written only as regular files inside the
//! repository, with a size limit, and their errors never quote them: an
//! error gives the file, the line, the column and the parser's message with
//! every value it quotes left out.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// The repository: the nearest folder holding `.git` at or above the
/// working folder, else the working folder (canonical).
pub fn repository_root() -> Result<PathBuf, String> {
    let cwd = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .map_err(|e| format!("the working folder: {e}"))?;
    Ok(cwd
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(&cwd)
        .to_path_buf())
}

/// What a path that is not a regular file is, in words (for messages).
pub fn describe_file_type(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The real path of an existing file, refused when it (after every link)
/// is outside `root` or is not a regular file.
fn resolve_inside(path: &Path, root: &Path) -> Result<PathBuf, String> {
    let real = path.canonicalize().map_err(|e| e.to_string())?;
    if !real.starts_with(root) {
        return Err(outside(root));
    }
    let meta = std::fs::metadata(&real).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(format!("{}: refused", describe_file_type(&meta)));
    }
    Ok(real)
}

/// Open a resolved path without blocking and without following a link: a
/// FIFO or a link swapped in after the check must not hang the open or lead
/// elsewhere (the handle's own metadata is checked after).
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// The text of a regular file inside `root`, at most `max` bytes. The
/// errors say why in a few words; the caller adds the path.
pub fn read_text(path: &Path, root: &Path, max: u64) -> Result<String, String> {
    let real = resolve_inside(path, root)?;
    let file = open_nonblocking(&real).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(format!("{}: refused", describe_file_type(&meta)));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(max) as usize + 1);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {max} bytes: refused"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

/// Where writing `path` inside `root` puts the text: the file itself, or
/// the file a link inside the repository leads to. A link leading out, a
/// FIFO, a device or a folder is refused; so is a new file whose folder is
/// outside. Asked before the work, so a refusal costs nothing.
pub fn write_target(path: &Path, root: &Path) -> Result<PathBuf, String> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => resolve_inside(path, root),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let name = path.file_name().ok_or("not a file name")?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let dir = parent.canonicalize().map_err(|e| e.to_string())?;
            if !dir.starts_with(root) {
                return Err(outside(root));
            }
            Ok(dir.join(name))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn outside(root: &Path) -> String {
    format!("outside the repository ({}): refused", root.display())
}

/// Write `text` to `path` inside `root` (see [`write_target`]): into a new
/// file beside the target, then renamed over it, so that nothing but a
/// regular file of ours is written, and a FIFO or a link put there in the
/// meantime is replaced, never written through.
pub fn write_text(path: &Path, root: &Path, text: &str) -> Result<(), String> {
    let target = write_target(path, root)?;
    let dir = target.parent().ok_or("no folder")?;
    let name = target.file_name().ok_or("not a file name")?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    // create_new: a link or a FIFO already at the temporary name fails it.
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&temp, &target));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e.to_string());
    }
    Ok(())
}

/// A parse error without the file's text: `line L, column C: message`,
/// each value the message quotes (`"…"`, or `` `…` `` holding letters or
/// digits) replaced by `…`, except the names in `keep` (the format's own
/// keys) and the key of an `unknown field` (what was misspelt).
pub fn parse_error(line: usize, column: usize, message: &str, keep: &[&str]) -> String {
    format!(
        "line {line}, column {column}: {}",
        redact(message.trim(), keep)
    )
}

fn redact(message: &str, keep: &[&str]) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open] as char;
        let Some(len) = rest[open + 1..].find(quote) else {
            break;
        };
        let inner = &rest[open + 1..open + 1 + len];
        let before = &rest[..open];
        let shown = keep.contains(&inner)
            || (quote == '`'
                && (!inner.chars().any(char::is_alphanumeric)
                    || before.ends_with("unknown field ")));
        out.push_str(before);
        out.push(quote);
        out.push_str(if shown { inner } else { "…" });
        out.push(quote);
        rest = &rest[open + len + 2..];
    }
    // An unpaired quote: nothing after it is shown.
    match rest.find(['"', '`']) {
        Some(i) => {
            out.push_str(&rest[..i]);
            out.push('…');
        }
        None => out.push_str(rest),
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_left_out_of_messages() {
        let keep = ["select", "ignore"];
        assert_eq!(
            redact(
                "invalid type: string \"Hunter2\", expected a sequence",
                &keep
            ),
            "invalid type: string \"…\", expected a sequence"
        );
        assert_eq!(
            redact(
                "unknown field `selct`, expected one of `select`, `ignore`",
                &keep
            ),
            "unknown field `selct`, expected one of `select`, `ignore`"
        );
        assert_eq!(
            redact("invalid value: integer `12345`, expected `=`", &keep),
            "invalid value: integer `…`, expected `=`"
        );
        assert_eq!(redact("unterminated \"abc def", &keep), "unterminated …");
    }

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 0), (1, 1));
    }
}
