//! Which Kubernetes object a reference means when the checked tree holds
//! several of the same kind and name.
//!
//! A cluster holds one object per kind, namespace and name; a repository
//! often holds many: one copy per environment, team or example folder. A
//! reference (the ConfigMap of a volume, the Service of an Ingress) and a
//! Service's selector are taken to mean the copy nearest the object they
//! are made from: in the same file, else the same folder, else the closest
//! folder above. Copies equally near are all kept, in the order written.
//! Looking one up costs a binary search, not a pass over every copy.

use std::collections::HashMap;
use std::path::Path;

use super::k8s::Object;

pub struct Objects<'a> {
    objects: &'a [Object],
    /// Kind and name: the positions of the copies, sorted by file.
    copies: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> Objects<'a> {
    pub fn new(objects: &'a [Object]) -> Objects<'a> {
        let mut copies: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            let key = (o.kind.as_str(), o.name.as_str());
            copies.entry(key).or_default().push(i);
        }
        for positions in copies.values_mut() {
            // Stable: copies in one file keep their order.
            positions.sort_by(|a, b| objects[*a].path.cmp(&objects[*b].path));
        }
        Objects { objects, copies }
    }

    /// The copies of `kind`/`name` in the namespace of `from` nearest to
    /// it, with their positions, in the order written.
    pub fn nearest(&self, kind: &str, name: &str, from: &Object) -> Vec<(usize, &'a Object)> {
        let Some(copies) = self.copies.get(&(kind, name)) else {
            return Vec::new();
        };
        let objects = self.objects;
        let depth = |p: usize| shared_depth(&objects[p].path, &from.path);
        // Moving away from where `from` would sort, the folders shared with
        // it can only shrink: the nearest copies are found by walking out
        // from there, one level of nearness at a time.
        let at = copies.partition_point(|&p| objects[p].path < from.path);
        let (mut below, mut above) = (at, at);
        while below > 0 || above < copies.len() {
            let level = [
                below.checked_sub(1).map(|i| depth(copies[i])),
                copies.get(above).map(|&p| depth(p)),
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
            let mut found = Vec::new();
            while below > 0 && depth(copies[below - 1]) == level {
                below -= 1;
                found.push(copies[below]);
            }
            while above < copies.len() && depth(copies[above]) == level {
                found.push(copies[above]);
                above += 1;
            }
            found.retain(|&p| objects[p].same_namespace(from));
            if !found.is_empty() {
                found.sort_unstable();
                return found.into_iter().map(|p| (p, &objects[p])).collect();
            }
        }
        Vec::new()
    }
}

/// How many leading components two paths share.
fn shared_depth(a: &Path, b: &Path) -> usize {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::value::{Kind, Value};
    use crate::source::{SourceId, Span};
    use std::path::PathBuf;

    fn object(kind: &str, name: &str, namespace: Option<&str>, path: &str) -> Object {
        Object {
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(Into::into),
            value: Value::new(Kind::Null, Span::new(SourceId(0), 0, 0)),
            path: PathBuf::from(path),
        }
    }

    fn paths(found: &[(usize, &Object)]) -> Vec<String> {
        found
            .iter()
            .map(|(_, o)| o.path.display().to_string())
            .collect()
    }

    #[test]
    fn the_copy_in_the_same_file_then_folder_then_closest_folder_above() {
        let objects = vec![
            object("ConfigMap", "ch", None, "a/x/cm.yaml"),
            object("ConfigMap", "ch", None, "b/k8s/cm.yaml"),
            object("ConfigMap", "ch", None, "b/k8s/sts.yaml"),
            object("ConfigMap", "ch", None, "b/other/cm.yaml"),
            object("ConfigMap", "ch", None, "c/cm.yaml"),
            object("StatefulSet", "db", None, "b/k8s/sts.yaml"),
            object("StatefulSet", "db", None, "b/k8s/deep/sts.yaml"),
            object("StatefulSet", "db", None, "b/elsewhere/sts.yaml"),
            object("StatefulSet", "db", None, "d/sts.yaml"),
        ];
        let index = Objects::new(&objects);
        let near = |o: &Object| paths(&index.nearest("ConfigMap", "ch", o));
        assert_eq!(near(&objects[5]), ["b/k8s/sts.yaml"]);
        assert_eq!(near(&objects[6]), ["b/k8s/cm.yaml", "b/k8s/sts.yaml"]);
        assert_eq!(
            near(&objects[7]),
            ["b/k8s/cm.yaml", "b/k8s/sts.yaml", "b/other/cm.yaml"]
        );
        // Nothing shared: every copy is as near as any other.
        assert_eq!(near(&objects[8]).len(), 5);
        assert!(index.nearest("Secret", "ch", &objects[5]).is_empty());
    }

    #[test]
    fn a_copy_in_another_namespace_does_not_hide_a_farther_one() {
        let objects = vec![
            object("Secret", "s", Some("prod"), "app/secret.yaml"),
            object("Secret", "s", Some("dev"), "app/k8s/secret.yaml"),
            object("Secret", "s", None, "other/secret.yaml"),
            object("Deployment", "d", Some("prod"), "app/k8s/deploy.yaml"),
        ];
        let index = Objects::new(&objects);
        assert_eq!(
            paths(&index.nearest("Secret", "s", &objects[3])),
            ["app/secret.yaml"]
        );
    }
}
