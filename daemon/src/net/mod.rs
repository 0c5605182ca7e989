//! The box on the network: its own certificate authority and the HTTPS
//! configuration built from it ([`tls`]), what a device needs to trust it
//! ([`trust`]), its announcement on the LAN with mDNS/DNS-SD ([`mdns`]), and
//! the one place where the URLs it gives out are built ([`urls`]).

pub mod mdns;
pub mod tls;
pub mod trust;
pub mod urls;
