//! The box on the network: its own certificate authority and the HTTPS
//! configuration built from it ([`tls`]), what a device needs to trust it
//! ([`trust`]), and its announcement on the LAN with mDNS/DNS-SD ([`mdns`]).

pub mod mdns;
pub mod tls;
pub mod trust;
