//! The box on the network: its own certificate authority and the HTTPS
//! configuration built from it. (mDNS/DNS-SD announcement joins here.)

pub mod tls;
