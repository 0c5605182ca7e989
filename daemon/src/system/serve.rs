//! `foyerd serve`: opens the vault, starts the HTTPS and plain-HTTP
//! listeners, and shuts everything down cleanly on SIGTERM/SIGINT.
//!
//! Order at start: data directory → device identity → keyring (master key)
//! → vault (database, files) → certificates → auth (claim code) → listeners
//! → mDNS announcement (and the tasks that keep the TXT record and the
//! server certificate current).
//! Order at stop: mDNS goodbye → stop accepting → let in-flight requests
//! finish (bounded) → checkpoint and close the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum_server::accept::{TcpConfigAcceptor, TcpKeepaliveConfig, TcpSocketConfig};
use axum_server::tls_rustls::RustlsAcceptor;

use crate::api::{self, AppState, BoxInfo};
use crate::auth::Auth;
use crate::config::{Config, LogFormat};
use crate::net::{mdns, tls};
use crate::system::identity::Identity;
use crate::system::shutdown;
use crate::vault::keys::{Keyring, create_private_dir};
use crate::vault::{StorageLimits, Vault};

/// How long in-flight requests may take to finish after a stop signal.
pub const GRACE: Duration = Duration::from_secs(20);

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn run(config: Config) -> anyhow::Result<()> {
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("foyerd")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    // Everything the daemon creates is for its own user only.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let data_dir = config.data_dir.clone();
    create_private_dir(&data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;

    // Bind first: a busy port is the most common misconfiguration, report it
    // before doing any work.
    let https_listeners = bind(config.listen)?;
    let http_listeners = bind(config.http_listen)?;
    let https_addr = https_listeners[0].local_addr()?;
    let http_addr = http_listeners[0].local_addr()?;

    let identity = Identity::load_or_create(&data_dir).context("device identity")?;
    let (keyring, master) =
        Keyring::open_or_create(&data_dir.join("keys")).context("opening the keyring")?;
    let master = Arc::new(master);
    let limits = StorageLimits {
        min_free_bytes: config.min_free_bytes,
        files_quota_bytes: config.files_quota_bytes,
    };
    let vault = Vault::open(&data_dir, &master, limits)
        .await
        .context("opening the vault")?;
    let tls = Arc::new(
        tls::load_or_create(
            &data_dir.join("tls"),
            &identity.hostname(),
            &tls::machine_addresses(),
            &master,
        )
        .context("preparing certificates")?,
    );
    let auth = Auth::new(
        data_dir.clone(),
        Arc::clone(&vault.db),
        Arc::clone(&master),
        keyring,
        config.claim_code_file.clone(),
        identity.hostname(),
    )
    .context("preparing authentication")?;

    let announcer = if config.mdns {
        let announcement = mdns::Announcement {
            hostname: identity.hostname(),
            instance: identity.hostname(),
            https_port: https_addr.port(),
            id: identity.id.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ca_fingerprint: tls.ca_fingerprint.clone(),
            claimed: auth.is_claimed(),
            interfaces: config.mdns_interfaces.clone(),
        };
        match mdns::Announcer::start(announcement) {
            Ok(a) => Some(a),
            Err(e) => {
                // The box still works by address; say so instead of refusing to start.
                tracing::error!(error = %e, "cannot announce the box on the LAN (mDNS); reach it by address");
                None
            }
        }
    } else {
        tracing::info!("mDNS announcement is off (--no-mdns)");
        None
    };
    let info = Arc::new(BoxInfo {
        id: identity.id.clone(),
        hostname: identity.hostname(),
        version: env!("CARGO_PKG_VERSION"),
        ca_fingerprint: tls.ca_fingerprint.clone(),
        ca_pem: tls.ca_pem.clone(),
        ca_der: tls.ca_der.clone(),
        https_port: https_addr.port(),
        http_port: http_addr.port(),
        lan: announcer.as_ref().map(|a| a.subscribe()),
    });
    let auth = Arc::new(auth);
    let (trigger, stop) = shutdown::channel();
    let state = AppState {
        shutdown: stop.clone(),
        vault: Arc::clone(&vault),
        auth: Arc::clone(&auth),
        info: Arc::clone(&info),
    };
    if let Some(a) = &announcer {
        tokio::spawn(follow_claimed(auth.watch_claimed(), Arc::clone(a)));
    }
    tokio::spawn(keep_certificate_current(
        Arc::clone(&tls),
        announcer.as_ref().map(|a| a.subscribe()),
        stop.clone(),
    ));

    // One control for the HTTPS servers of every listener (IPv4, IPv6).
    let control = axum_server::Control::new();
    let mut servers = Vec::new();
    let app = api::router(state);
    let rustls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::clone(&tls.server_config));
    for listener in https_listeners {
        let (app, rustls) = (app.clone(), rustls.clone());
        let handle = axum_server::Handle::with_control(control.clone());
        servers.push(tokio::spawn(async move {
            // TCP_NODELAY: small responses (JSON, HTTP/2 frames) go out at
            // once instead of waiting for Nagle's timer. Keepalive probes let
            // the kernel drop phones that left the Wi-Fi mid long-poll.
            let tcp = TcpSocketConfig::new().nodelay(true).keepalive(
                TcpKeepaliveConfig::new()
                    .time(Duration::from_secs(60))
                    .interval(Duration::from_secs(15)),
            );
            let acceptor = RustlsAcceptor::new(rustls).acceptor(TcpConfigAcceptor::new(tcp));
            axum_server::from_tcp(listener)?
                .acceptor(acceptor)
                .handle(handle)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
        }));
    }
    let plain = api::plain::router(Arc::clone(&info));
    for listener in http_listeners {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (app, mut stop) = (plain.clone(), stop.clone());
        servers.push(tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stop.wait().await })
            .await
        }));
    }

    tracing::info!(
        name = %format!("{}.local", info.hostname),
        https = %format!("https://{https_addr}"),
        http = %format!("http://{http_addr}"),
        ca_fingerprint = %info.ca_fingerprint,
        claimed = auth.is_claimed(),
        startup_ms = started.elapsed().as_millis() as u64,
        "foyerd is ready"
    );

    let signal = shutdown::signal()
        .await
        .context("installing signal handlers")?;
    tracing::info!(signal, "stopping: finishing in-flight requests");
    if let Some(a) = announcer {
        // Goodbye packets first, so phones forget the box before it goes.
        let _ = tokio::task::spawn_blocking(move || a.shutdown()).await;
    }
    trigger.trigger();
    control.graceful_shutdown(Some(GRACE));
    for server in servers {
        if let Ok(Err(e)) = server.await {
            tracing::warn!(error = %e, "a server stopped with an error");
        }
    }
    vault.close();
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Keeps the `claimed` TXT key of the mDNS record in step with the box.
async fn follow_claimed(mut claimed: tokio::sync::watch::Receiver<bool>, a: Arc<mdns::Announcer>) {
    while claimed.changed().await.is_ok() {
        let now = *claimed.borrow_and_update();
        a.set_claimed(now);
    }
}

/// How often the server certificate's expiry and addresses are checked.
const CERT_CHECK_EVERY: Duration = Duration::from_secs(6 * 3600);

/// Re-issues the server certificate, without a restart, before it expires,
/// when the machine's addresses change and when mDNS had to rename the box.
async fn keep_certificate_current(
    tls: Arc<tls::BoxTls>,
    mut lan: Option<tokio::sync::watch::Receiver<mdns::LanState>>,
    mut stop: shutdown::Shutdown,
) {
    loop {
        let lan_changed = async {
            match lan.as_mut() {
                Some(rx) => rx.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(CERT_CHECK_EVERY) => {}
            alive = lan_changed => {
                if !alive { lan = None; continue; }
                // Let a burst of address events settle.
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        let lan_host = lan.as_ref().map(|rx| rx.borrow().hostname.clone());
        let tls = Arc::clone(&tls);
        let result = tokio::task::spawn_blocking(move || {
            tls.refresh(lan_host.as_deref(), &tls::machine_addresses())
        })
        .await;
        match result {
            Ok(Ok(true)) => {
                tracing::info!("the server certificate was renewed; new connections use it")
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot renew the server certificate"),
            Err(e) => tracing::error!(error = %e, "certificate renewal task failed"),
        }
    }
}

/// Binds `addr`; when it is the IPv4 wildcard (`0.0.0.0`, the default),
/// also the IPv6 wildcard on the same port, since mDNS announces the box's
/// IPv6 addresses too and phones may use them. The IPv6 companion is
/// IPv6-only (the IPv4 socket keeps IPv4) and optional: a host without IPv6
/// runs on IPv4 alone. The first listener is always `addr`'s.
fn bind(addr: SocketAddr) -> anyhow::Result<Vec<std::net::TcpListener>> {
    let primary =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    primary.set_nonblocking(true)?;
    let port = primary.local_addr()?.port();
    let mut listeners = vec![primary];
    if addr.ip() == std::net::IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED) {
        let v6 = SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port));
        match bind_v6_only(v6) {
            Ok(l) => listeners.push(l),
            Err(e) => tracing::info!(error = %e, "not listening on IPv6 ({v6})"),
        }
    }
    Ok(listeners)
}

fn bind_v6_only(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_only_v6(true)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}
