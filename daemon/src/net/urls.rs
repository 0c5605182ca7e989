//! Every URL the box gives out — to phones (pairing links, the label's QR
//! code, the trust page, the plain-HTTP redirects), to the web app
//! (`/api/box`) and to people (the console text) — is built here, so that
//! one rule holds everywhere: the port is written only when it is not the
//! scheme's default (`https://foyer-ab12.local/` on 443,
//! `https://foyer-ab12.local:8443/` otherwise). An appliance listening on
//! 443 and 80 must never hand out `:443`, which some phones then show and
//! people copy.

use std::net::IpAddr;

/// The two schemes the box serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port a URL may leave out.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// `scheme://host[:port]`, without a trailing slash; the port is left out
/// when it is the scheme's default. `host` is a name or an address literal
/// already in URL form (IPv6 in brackets, see [`url_host`]).
pub fn origin(scheme: Scheme, host: &str, port: u16) -> String {
    if port == scheme.default_port() {
        format!("{}://{host}", scheme.name())
    } else {
        format!("{}://{host}:{port}", scheme.name())
    }
}

/// The box's HTTPS root at `host`: `https://host[:port]/`.
pub fn https_root(host: &str, port: u16) -> String {
    format!("{}/", origin(Scheme::Https, host, port))
}

/// An address as the host part of a URL (IPv6 in brackets).
pub fn url_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// `foyer-XXXX.local`: the name under which the box is reached on the LAN.
pub fn local_name(lan_hostname: &str) -> String {
    format!("{lan_hostname}.local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_are_left_out() {
        assert_eq!(
            origin(Scheme::Https, "foyer-ab12.local", 443),
            "https://foyer-ab12.local"
        );
        assert_eq!(
            origin(Scheme::Https, "foyer-ab12.local", 8443),
            "https://foyer-ab12.local:8443"
        );
        assert_eq!(origin(Scheme::Http, "10.0.0.2", 80), "http://10.0.0.2");
        assert_eq!(
            origin(Scheme::Http, "10.0.0.2", 8080),
            "http://10.0.0.2:8080"
        );
        // Each scheme has its own default: 443 is not plain HTTP's.
        assert_eq!(origin(Scheme::Http, "h", 443), "http://h:443");
        assert_eq!(origin(Scheme::Https, "h", 80), "https://h:80");
        assert_eq!(
            https_root(&url_host("fd00::20".parse().expect("v6")), 443),
            "https://[fd00::20]/"
        );
        assert_eq!(
            https_root(&url_host([192, 168, 1, 20].into()), 8443),
            "https://192.168.1.20:8443/"
        );
    }
}
