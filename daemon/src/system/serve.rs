//! `foyerd serve`: opens the vault, starts the HTTPS and plain-HTTP
//! listeners, and shuts everything down cleanly on SIGTERM/SIGINT.
//!
//! Order at start: data directory → device identity → keyring (master key)
//! → vault (database, files) → certificates → auth (claim code) → listeners.
//! Order at stop: stop accepting → let in-flight requests finish (bounded) →
//! checkpoint and close the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum_server::accept::{TcpConfigAcceptor, TcpKeepaliveConfig, TcpSocketConfig};
use axum_server::tls_rustls::RustlsAcceptor;

use crate::api::{self, AppState, BoxInfo};
use crate::auth::Auth;
use crate::config::{Config, LogFormat};
use crate::net::tls;
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
    let https_listener = bind(config.listen)?;
    let http_listener = bind(config.http_listen)?;
    let https_addr = https_listener.local_addr()?;
    let http_addr = http_listener.local_addr()?;

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
    let tls = tls::load_or_create(
        &data_dir.join("tls"),
        &identity.hostname(),
        &tls::machine_addresses(),
        &master,
    )
    .context("preparing certificates")?;
    let auth = Auth::new(
        data_dir.clone(),
        Arc::clone(&vault.db),
        Arc::clone(&master),
        keyring,
        config.claim_code_file.clone(),
        identity.hostname(),
    )
    .context("preparing authentication")?;

    let info = Arc::new(BoxInfo {
        id: identity.id.clone(),
        hostname: identity.hostname(),
        version: env!("CARGO_PKG_VERSION"),
        ca_fingerprint: tls.ca_fingerprint.clone(),
        ca_pem: tls.ca_pem.clone(),
        ca_der: tls.ca_der.clone(),
        https_port: https_addr.port(),
    });
    let auth = Arc::new(auth);
    let (trigger, stop) = shutdown::channel();
    let state = AppState {
        shutdown: stop.clone(),
        vault: Arc::clone(&vault),
        auth: Arc::clone(&auth),
        info: Arc::clone(&info),
    };
    if config.mdns {
        tracing::info!("mDNS announcement is not available in this version yet");
    }

    let handle = axum_server::Handle::new();
    let https = {
        let app = api::router(state);
        let rustls =
            axum_server::tls_rustls::RustlsConfig::from_config(Arc::clone(&tls.server_config));
        let handle = handle.clone();
        tokio::spawn(async move {
            // TCP_NODELAY: small responses (JSON, HTTP/2 frames) go out at
            // once instead of waiting for Nagle's timer. Keepalive probes let
            // the kernel drop phones that left the Wi-Fi mid long-poll.
            let tcp = TcpSocketConfig::new().nodelay(true).keepalive(
                TcpKeepaliveConfig::new()
                    .time(Duration::from_secs(60))
                    .interval(Duration::from_secs(15)),
            );
            let acceptor = RustlsAcceptor::new(rustls).acceptor(TcpConfigAcceptor::new(tcp));
            axum_server::from_tcp(https_listener)?
                .acceptor(acceptor)
                .handle(handle)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
        })
    };
    let http = {
        let app = api::plain::router(Arc::clone(&info));
        let listener = tokio::net::TcpListener::from_std(http_listener)?;
        let mut stop = stop.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stop.wait().await })
            .await
        })
    };

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
    trigger.trigger();
    handle.graceful_shutdown(Some(GRACE));
    let (a, b) = tokio::join!(https, http);
    if let Ok(Err(e)) = a {
        tracing::warn!(error = %e, "HTTPS server stopped with an error");
    }
    if let Ok(Err(e)) = b {
        tracing::warn!(error = %e, "HTTP server stopped with an error");
    }
    vault.close();
    tracing::info!("stopped cleanly");
    Ok(())
}

fn bind(addr: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let l =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    l.set_nonblocking(true)?;
    Ok(l)
}
