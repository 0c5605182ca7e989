//! The plain-HTTP listener: the one thing a browser reaches before it trusts
//! the box. It serves the CA certificate (`/ca.pem`, `/ca.crt` in DER for
//! Android) and a short page on how to trust it (`/trust`), and redirects
//! everything else to HTTPS. It never serves vault data.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use super::BoxInfo;
use crate::net::urls::{self, Scheme};
use crate::net::{tls, trust};

pub fn router(info: Arc<BoxInfo>) -> Router {
    Router::new()
        .route("/ca.pem", get(ca_pem))
        .route("/ca.crt", get(ca_der))
        .route("/ca.mobileconfig", get(ca_mobileconfig))
        .route("/trust", get(trust_page))
        .fallback(redirect)
        .with_state(info)
}

async fn ca_pem(State(info): State<Arc<BoxInfo>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/x-pem-file"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"foyer-ca.pem\"",
            ),
        ],
        info.ca_pem.clone(),
    )
        .into_response()
}

async fn ca_der(State(info): State<Arc<BoxInfo>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/x-x509-ca-cert"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"foyer-ca.crt\"",
            ),
        ],
        info.ca_der.clone(),
    )
        .into_response()
}

async fn ca_mobileconfig(State(info): State<Arc<BoxInfo>>) -> Response {
    match trust::mobileconfig(&info.hostname, &info.ca_der, &info.ca_fingerprint) {
        Ok(profile) => (
            [
                (header::CONTENT_TYPE, "application/x-apple-aspen-config"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"foyer-ca.mobileconfig\"",
                ),
            ],
            profile,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot build the configuration profile");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn trust_page(State(info): State<Arc<BoxInfo>>, headers: HeaderMap) -> Html<String> {
    let lang = trust::Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let reached_as = request_host(&headers);
    let lan_hostname = info.lan_hostname();
    let addresses = tls::lan_addresses();
    Html(trust::trust_page(
        &trust::TrustPage {
            lan_hostname: &lan_hostname,
            reached_as: reached_as.as_deref(),
            https_port: info.https_port,
            ca_fingerprint: &info.ca_fingerprint,
            addresses: &addresses,
        },
        lang,
    ))
}

/// The host the browser asked for (`Host` without its port), when it is a
/// bare name or address literal.
fn request_host(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(strip_port)
        .filter(|h| is_safe_host(h))
        .map(str::to_owned)
}

async fn redirect(State(info): State<Arc<BoxInfo>>, req: Request) -> Response {
    let host =
        request_host(req.headers()).unwrap_or_else(|| urls::local_name(&info.lan_hostname()));
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let target = format!(
        "{}{path}",
        urls::origin(Scheme::Https, &host, info.https_port)
    );
    match HeaderValue::from_str(&target) {
        Ok(_) => Redirect::permanent(&target).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // An IPv6 literal keeps its brackets: [fe80::1]:8080 -> [fe80::1]
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Host names and address literals only: no header or URL injection.
fn is_safe_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(strip_port("foyer-ab12.local:8080"), "foyer-ab12.local");
        assert_eq!(strip_port("192.168.1.2"), "192.168.1.2");
        assert_eq!(strip_port("[fe80::1]:8080"), "[fe80::1]");
        assert!(is_safe_host("foyer-ab12.local"));
        assert!(!is_safe_host("evil.com/\r\nX: y"));
    }
}
