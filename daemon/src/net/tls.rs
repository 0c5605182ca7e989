//! The box's certificate authority and server certificate.
//!
//! At first start the box creates an ECDSA P-256 CA that is *name-constrained*
//! to its own names (`foyer-XXXX.local`, `localhost`) and to loopback and
//! private address ranges, so that trusting it on a phone cannot let it vouch
//! for any other site. The server certificate is issued from it for the box's
//! names and the machine's private addresses, and re-issued — at start and
//! while running, without a restart — when it nears expiry, when the
//! machine's addresses change or when an mDNS name conflict gave the box a new
//! name. The HTTPS listener reads the current certificate through
//! [`ServerCert`], a rustls certificate resolver, at every handshake.
//!
//! Files under `tls/`: `ca.pem` (public, the contract), `server.pem` (public),
//! and the private keys sealed with the vault's master key (`*.key.sealed`):
//! nothing there lets a disk reader impersonate the box without the master key.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::system::fsutil::write_atomic;
use crate::vault::keys::MasterKey;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate store I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("sealed key {0} cannot be opened with this vault's key")]
    Sealed(PathBuf),
    #[error("stored certificate {0} is unreadable")]
    BadCertificate(PathBuf),
}

/// Certificates of a running box.
pub struct BoxTls {
    /// PEM of the CA certificate (what `tls/ca.pem` holds).
    pub ca_pem: String,
    /// DER of the CA certificate.
    pub ca_der: Vec<u8>,
    /// SHA-256 of the CA certificate's DER, lowercase hex (the `ca` TXT key).
    pub ca_fingerprint: String,
    /// rustls configuration for the HTTPS listener (h2 and http/1.1 by ALPN).
    pub server_config: Arc<rustls::ServerConfig>,
    cert: Arc<ServerCert>,
    tls_dir: PathBuf,
    hostname: String,
    master: Arc<MasterKey>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

/// The server certificate in use, swapped in place when it is re-issued.
#[derive(Debug)]
pub struct ServerCert {
    current: RwLock<Arc<CertifiedKey>>,
    pem: RwLock<String>,
}

impl ResolvesServerCert for ServerCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| Arc::clone(&c))
    }
}

/// How many conflict-renamed host names (`foyer-XXXX-2.local` …) the CA
/// may vouch for besides its own.
const CONFLICT_NAMES: u32 = super::mdns::MAX_CONFLICT_SUFFIX;

const CA_LIFETIME_DAYS: i64 = 20 * 365;
const SERVER_LIFETIME_DAYS: i64 = 397;
const RENEW_BEFORE_DAYS: i64 = 60;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Loads the CA and server certificate from `tls_dir`, creating or renewing
/// what is missing, expiring or no longer covering `addresses`.
pub fn load_or_create(
    tls_dir: &Path,
    hostname: &str,
    addresses: &[IpAddr],
    master: &Arc<MasterKey>,
) -> Result<BoxTls, TlsError> {
    std::fs::create_dir_all(tls_dir).map_err(io_err(tls_dir))?;
    let ca_path = tls_dir.join("ca.pem");
    let ca_key_path = tls_dir.join("ca.key.sealed");
    if !(ca_path.exists() && ca_key_path.exists()) {
        let (pem, key) = create_ca(hostname)?;
        seal_key(master, &ca_key_path, "tls-ca-key", &key)?;
        write_atomic(&ca_path, pem.as_bytes(), 0o644).map_err(io_err(&ca_path))?;
        tracing::info!(path = %ca_path.display(), "created the box certificate authority");
    }
    let ca_pem = std::fs::read_to_string(&ca_path).map_err(io_err(&ca_path))?;
    let ca_der = pem_to_der(&ca_pem).ok_or_else(|| TlsError::BadCertificate(ca_path.clone()))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let names = server_names(hostname, None);
    let ips = server_ips(addresses);
    let (server_pem, key) = current_or_new_server_cert(tls_dir, master, &ca_pem, &names, &ips)?;
    let cert = Arc::new(ServerCert {
        current: RwLock::new(Arc::new(certified(&provider, &server_pem, &key, tls_dir)?)),
        pem: RwLock::new(server_pem),
    });
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(&cert) as Arc<dyn ResolvesServerCert>);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

    let ca_fingerprint = fingerprint(&ca_der);
    Ok(BoxTls {
        ca_pem,
        ca_der,
        ca_fingerprint,
        server_config: Arc::new(config),
        cert,
        tls_dir: tls_dir.to_owned(),
        hostname: hostname.to_owned(),
        master: Arc::clone(master),
        provider,
    })
}

impl BoxTls {
    /// Re-issues the server certificate if it nears expiry or no longer
    /// covers `lan_hostname` (the mDNS name in use, when it differs from the
    /// box's own) and `addresses`; the new one serves the next handshake.
    /// Returns whether a new certificate was issued.
    pub fn refresh(
        &self,
        lan_hostname: Option<&str>,
        addresses: &[IpAddr],
    ) -> Result<bool, TlsError> {
        let names = server_names(&self.hostname, lan_hostname);
        let ips = server_ips(addresses);
        let still_good = self
            .cert
            .pem
            .read()
            .map(|pem| server_cert_still_good(&pem, &names, &ips))
            .unwrap_or(false);
        if still_good {
            return Ok(false);
        }
        let (pem, key) =
            current_or_new_server_cert(&self.tls_dir, &self.master, &self.ca_pem, &names, &ips)?;
        let certified = certified(&self.provider, &pem, &key, &self.tls_dir)?;
        if let Ok(mut c) = self.cert.current.write() {
            *c = Arc::new(certified);
        }
        if let Ok(mut p) = self.cert.pem.write() {
            *p = pem;
        }
        Ok(true)
    }

    /// When the server certificate in use expires (Unix seconds).
    pub fn server_not_after(&self) -> Option<i64> {
        let pem = self.cert.pem.read().ok()?;
        let der = pem_to_der(&pem)?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
        Some(cert.validity().not_after.timestamp())
    }
}

/// The DNS names of the server certificate.
fn server_names(hostname: &str, lan_hostname: Option<&str>) -> Vec<String> {
    let mut names = vec![format!("{hostname}.local"), "localhost".to_owned()];
    if let Some(lan) = lan_hostname
        && lan != hostname
        && is_conflict_name(hostname, lan)
    {
        names.push(format!("{lan}.local"));
    }
    names
}

/// Whether `lan` is one of the conflict-renamed names the CA permits.
fn is_conflict_name(hostname: &str, lan: &str) -> bool {
    (2..=CONFLICT_NAMES).any(|n| lan == format!("{hostname}-{n}"))
}

/// The addresses of the server certificate: the permitted ones of the
/// machine, and loopback.
fn server_ips(addresses: &[IpAddr]) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = addresses
        .iter()
        .copied()
        .filter(|ip| is_permitted_ip(*ip))
        .collect();
    for lo in [
        IpAddr::from([127, 0, 0, 1]),
        IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
    ] {
        if !ips.contains(&lo) {
            ips.push(lo);
        }
    }
    ips.sort();
    ips.dedup();
    ips
}

/// The stored server certificate if it still fits, else a new one issued
/// from the CA and stored.
fn current_or_new_server_cert(
    tls_dir: &Path,
    master: &MasterKey,
    ca_pem: &str,
    names: &[String],
    ips: &[IpAddr],
) -> Result<(String, KeyPair), TlsError> {
    let server_path = tls_dir.join("server.pem");
    let server_key_path = tls_dir.join("server.key.sealed");
    let reuse = match std::fs::read_to_string(&server_path) {
        Ok(pem) if server_key_path.exists() => {
            server_cert_still_good(&pem, names, ips).then_some(pem)
        }
        _ => None,
    };
    if let Some(pem) = reuse {
        return Ok((pem, open_key(master, &server_key_path, "tls-server-key")?));
    }
    let ca_key = open_key(master, &tls_dir.join("ca.key.sealed"), "tls-ca-key")?;
    let issuer = Issuer::from_ca_cert_pem(ca_pem, &ca_key)?;
    let (pem, key) = issue_server(&issuer, names, ips, SERVER_LIFETIME_DAYS)?;
    // Key first: a crash between the two writes leaves a certificate whose
    // key does not match, which the next start detects and re-issues.
    seal_key(master, &server_key_path, "tls-server-key", &key)?;
    write_atomic(&server_path, pem.as_bytes(), 0o644).map_err(io_err(&server_path))?;
    tracing::info!(names = ?names, addresses = ?ips, "issued the server certificate");
    Ok((pem, key))
}

fn certified(
    provider: &rustls::crypto::CryptoProvider,
    pem: &str,
    key: &KeyPair,
    tls_dir: &Path,
) -> Result<CertifiedKey, TlsError> {
    let der =
        pem_to_der(pem).ok_or_else(|| TlsError::BadCertificate(tls_dir.join("server.pem")))?;
    Ok(CertifiedKey::from_der(
        vec![CertificateDer::from(der)],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        provider,
    )?)
}

fn create_ca(hostname: &str) -> Result<(String, KeyPair), TlsError> {
    let local_name = format!("{hostname}.local");
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Foyer");
    dn.push(DnType::CommonName, format!("Foyer box {local_name} CA"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_LIFETIME_DAYS);
    params.serial_number = Some(rand::random::<[u8; 16]>().to_vec().into());
    let mut permitted = vec![
        GeneralSubtree::DnsName(local_name.clone()),
        GeneralSubtree::DnsName("localhost".to_owned()),
    ];
    // The names mDNS conflict resolution may give the box on a crowded LAN.
    permitted.extend(
        (2..=CONFLICT_NAMES).map(|n| GeneralSubtree::DnsName(format!("{hostname}-{n}.local"))),
    );
    permitted.extend(private_ranges().into_iter().map(GeneralSubtree::IpAddress));
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: vec![],
    });
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key))
}

fn issue_server(
    issuer: &Issuer<'_, &KeyPair>,
    names: &[String],
    ips: &[IpAddr],
    lifetime_days: i64,
) -> Result<(String, KeyPair), TlsError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Foyer");
    dn.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    params.distinguished_name = dn;
    let mut sans = Vec::new();
    for n in names {
        sans.push(SanType::DnsName(n.as_str().try_into()?));
    }
    sans.extend(ips.iter().copied().map(SanType::IpAddress));
    params.subject_alt_names = sans;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(lifetime_days);
    params.serial_number = Some(rand::random::<[u8; 16]>().to_vec().into());
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key))
}

/// Loopback, RFC 1918, link-local and unique-local ranges: the only addresses
/// the box CA may vouch for.
fn private_ranges() -> Vec<CidrSubnet> {
    vec![
        CidrSubnet::from_v4_prefix([127, 0, 0, 0], 8),
        CidrSubnet::from_v4_prefix([10, 0, 0, 0], 8),
        CidrSubnet::from_v4_prefix([172, 16, 0, 0], 12),
        CidrSubnet::from_v4_prefix([192, 168, 0, 0], 16),
        CidrSubnet::from_v4_prefix([169, 254, 0, 0], 16),
        CidrSubnet::from_v6_prefix([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128),
        CidrSubnet::from_v6_prefix([0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 7),
        CidrSubnet::from_v6_prefix([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 10),
    ]
}

/// Whether an address lies in one of [`private_ranges`].
pub fn is_permitted_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn server_cert_still_good(pem: &str, names: &[String], ips: &[IpAddr]) -> bool {
    let Some(der) = pem_to_der(pem) else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else {
        return false;
    };
    let remaining =
        cert.validity().not_after.timestamp() - OffsetDateTime::now_utc().unix_timestamp();
    if remaining < RENEW_BEFORE_DAYS * 86_400 {
        return false;
    }
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    let mut have_names = Vec::new();
    let mut have_ips = Vec::new();
    for n in &san.value.general_names {
        match n {
            x509_parser::extensions::GeneralName::DNSName(s) => have_names.push(s.to_string()),
            x509_parser::extensions::GeneralName::IPAddress(b) => {
                if let Ok(a) = <[u8; 4]>::try_from(*b) {
                    have_ips.push(IpAddr::from(a));
                } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                    have_ips.push(IpAddr::from(a));
                }
            }
            _ => {}
        }
    }
    names.iter().all(|n| have_names.contains(n)) && ips.iter().all(|ip| have_ips.contains(ip))
}

/// The SHA-256 of a certificate's DER, lowercase hex: the box CA's
/// fingerprint as the TXT record, the label and the web app show it.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The DER of the first certificate in a PEM text.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    Some(parsed.contents)
}

fn seal_key(master: &MasterKey, path: &Path, label: &str, key: &KeyPair) -> Result<(), TlsError> {
    let pem = zeroize::Zeroizing::new(key.serialize_pem());
    let sealed = master.seal(label, pem.as_bytes());
    write_atomic(path, &sealed, 0o600).map_err(io_err(path))
}

fn open_key(master: &MasterKey, path: &Path, label: &str) -> Result<KeyPair, TlsError> {
    let sealed = std::fs::read(path).map_err(io_err(path))?;
    let pem = master
        .open(label, &sealed)
        .map_err(|_| TlsError::Sealed(path.to_owned()))?;
    let pem = std::str::from_utf8(&pem).map_err(|_| TlsError::Sealed(path.to_owned()))?;
    Ok(KeyPair::from_pem(pem)?)
}

/// The machine's own addresses (all interfaces), for the server certificate.
/// The machine's addresses that a phone on the LAN may put in a URL and the
/// box CA vouches for: private and unique-local, IPv4 link-local; not
/// loopback, not IPv6 link-local (unusable in a URL without a zone). IPv4
/// first.
pub fn lan_addresses() -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = machine_addresses()
        .into_iter()
        .filter(|ip| is_permitted_ip(*ip) && !ip.is_loopback())
        .filter(|ip| match ip {
            IpAddr::V4(_) => true,
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect();
    ips.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    ips.dedup();
    ips
}

pub fn machine_addresses() -> Vec<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|ifs| ifs.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::keys::Keyring;

    fn fixture(tag: &str) -> (PathBuf, Arc<MasterKey>) {
        let dir = std::env::temp_dir().join(format!("foyer-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let (_, master) = Keyring::open_or_create(&dir.join("keys")).expect("keyring");
        (dir, Arc::new(master))
    }

    fn days_left(tls: &BoxTls) -> i64 {
        (tls.server_not_after().expect("not_after") - OffsetDateTime::now_utc().unix_timestamp())
            / 86_400
    }

    #[test]
    fn a_new_address_gets_a_new_certificate_without_a_restart() {
        let (dir, master) = fixture("addr");
        let lo: IpAddr = [127, 0, 0, 1].into();
        let lan: IpAddr = [192, 168, 1, 20].into();
        let tls = load_or_create(&dir.join("tls"), "foyer-ab12", &[lo], &master).expect("tls");
        assert!(
            !tls.refresh(None, &[lo]).expect("refresh"),
            "nothing changed"
        );
        assert!(
            tls.refresh(None, &[lo, lan]).expect("refresh"),
            "a new address"
        );
        let names = server_names("foyer-ab12", None);
        let in_use = tls.cert.pem.read().expect("lock").clone();
        assert!(server_cert_still_good(&in_use, &names, &[lo, lan]));
        // What is on disk is what is served, so a restart keeps it.
        let on_disk = std::fs::read_to_string(dir.join("tls/server.pem")).expect("server.pem");
        assert_eq!(on_disk, in_use);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_certificate_near_its_end_is_renewed_in_place() {
        let (dir, master) = fixture("expiry");
        let tls_dir = dir.join("tls");
        let lo: IpAddr = [127, 0, 0, 1].into();
        let tls = load_or_create(&tls_dir, "foyer-ab12", &[lo], &master).expect("tls");
        assert!(days_left(&tls) > RENEW_BEFORE_DAYS);

        // Put a certificate with 10 days left in service, as time would.
        let names = server_names("foyer-ab12", None);
        let ca_key =
            open_key(&master, &tls_dir.join("ca.key.sealed"), "tls-ca-key").expect("ca key");
        let issuer = Issuer::from_ca_cert_pem(&tls.ca_pem, &ca_key).expect("issuer");
        let (old_pem, old_key) = issue_server(&issuer, &names, &[lo], 10).expect("issue");
        let put_on_disk = || {
            seal_key(
                &master,
                &tls_dir.join("server.key.sealed"),
                "tls-server-key",
                &old_key,
            )
            .expect("seal");
            write_atomic(&tls_dir.join("server.pem"), old_pem.as_bytes(), 0o644).expect("write");
        };
        put_on_disk();
        *tls.cert.pem.write().expect("lock") = old_pem.clone();
        assert!(days_left(&tls) <= 10);

        assert!(tls.refresh(None, &[lo]).expect("refresh"), "renewed");
        assert!(days_left(&tls) > RENEW_BEFORE_DAYS);
        let served = tls.cert.pem.read().expect("lock").clone();
        assert_ne!(served, old_pem);

        // A box that was off when the time came renews at start.
        put_on_disk();
        let restarted = load_or_create(&tls_dir, "foyer-ab12", &[lo], &master).expect("tls");
        assert!(days_left(&restarted) > RENEW_BEFORE_DAYS);
        std::fs::remove_dir_all(&dir).ok();
    }
}
