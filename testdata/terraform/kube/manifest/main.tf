resource "kubernetes_manifest" "chi" {
  manifest = yamldecode(file("${path.module}/manifests/chi.yaml"))
}
