//! Deployment frontends: one per format that describes how ClickHouse is
//! deployed (Terraform, …), each lowering into the repository model.

pub mod terraform;
