//! Deployment frontends: each lowers one format (compose, Kubernetes, the
//! Altinity and ClickHouse operators, Helm values) into the same model as a
//! plain ClickHouse configuration — the effective configuration it implies
//! and the network path to it. Rules never learn which format a fact came
//! from.

pub mod embed;
pub mod value;
