//! `foyerd serve`: opens the vault, starts the HTTPS and plain-HTTP
//! listeners, and shuts everything down cleanly on SIGTERM/SIGINT.
//!
//! Order at start: data directory → listeners bound → device identity →
//! keyring (master key) → the `.running` marker → vault (database, files;
//! a quick check when the last stop was unclean) → certificates → auth
//! (claim code) → mDNS announcement → listeners serve → console text →
//! `READY=1` to systemd → the watchdog and the tasks that keep the TXT
//! record, the server certificate, the console text and the status LED
//! current, and the button's watcher. The board (hardware) is detected
//! first; its LED shows `Booting` from then, and `Error` if the start fails. Each stage
//! is a `STATUS=` line for `systemctl status`.
//! Order at stop: `STOPPING=1` → mDNS goodbye → stop accepting → let
//! in-flight requests finish (bounded) → checkpoint and close the database
//! → remove the `.running` marker (the stop was clean).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum_server::accept::{TcpConfigAcceptor, TcpKeepaliveConfig, TcpSocketConfig};
use axum_server::tls_rustls::RustlsAcceptor;
use board::KeySealer as _;
use board::LedState;

use crate::api::{self, AppState, BoxInfo};
use crate::auth::Auth;
use crate::config::Config;
use crate::net::{mdns, tls};
use crate::system::console::Console;
use crate::system::identity::Identity;
use crate::system::integrity::{self, IntegrityChecker, IntegrityReport, LastStop, RunMarker};
use crate::system::led::StatusLed;
use crate::system::status::System;
use crate::system::{button, factory_reset, logging, notify, shutdown, watchdog};
use crate::vault::keys::{Keyring, create_private_dir};
use crate::vault::{StorageLimits, Vault};

/// How long in-flight requests may take to finish after a stop signal.
pub const GRACE: Duration = Duration::from_secs(20);

/// How long start may take beyond `TimeoutStartSec=` while the database is
/// checked after an unclean stop (linear in its size; an SD card is slow).
const CHECK_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub fn run(config: Config) -> anyhow::Result<()> {
    logging::init(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("foyerd")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

/// Detects the board, shows `Booting` on its LED, and `Error` if the start
/// fails from here on.
async fn serve(config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    // The hardware, once: everything board-specific goes through it.
    let board: Arc<dyn board::Board> = Arc::from(board::detect(config.board, &config.board_root));
    tracing::info!(
        kind = ?board.kind(),
        model = %board.identity().model,
        root = %config.board_root.display(),
        "board"
    );
    let led = Arc::new(StatusLed::new(Arc::clone(&board)));
    led.set(LedState::Booting);
    let result = serve_on(config, started, board, Arc::clone(&led)).await;
    if result.is_err() {
        led.set(LedState::Error);
    }
    result
}

async fn serve_on(
    config: Config,
    started: Instant,
    board: Arc<dyn board::Board>,
    led: Arc<StatusLed>,
) -> anyhow::Result<()> {
    // Everything the daemon creates is for its own user only.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let data_dir = config.data_dir.clone();
    notify::status("starting: data directory and listeners");
    create_private_dir(&data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;

    // Bind first: a busy port is the most common misconfiguration, report it
    // before doing any work.
    let https_listeners = bind(config.listen)?;
    let http_listeners = bind(config.http_listen)?;
    let https_addr = https_listeners[0].local_addr()?;
    let http_addr = http_listeners[0].local_addr()?;

    notify::status("starting: device identity and keys");
    let identity = Identity::load_or_create(&data_dir).context("device identity")?;
    let (keyring, master) =
        Keyring::open_or_create(&data_dir.join("keys")).context("opening the keyring")?;
    let master = Arc::new(master);
    if factory_reset::is_pending(&data_dir) {
        tracing::warn!(
            file = %factory_reset::path(&data_dir).display(),
            "a factory reset is pending: the OS image wipes the data at its next boot"
        );
    }

    // From here until the database is closed at a clean stop, the marker says
    // "running"; finding it now means the last run did not end that way.
    let marker = RunMarker::create(&data_dir).with_context(|| {
        format!(
            "cannot write {}",
            data_dir.join(integrity::MARKER).display()
        )
    })?;
    if marker.found {
        tracing::warn!(
            "the last stop was not clean (power cut, crash or kill): the database will be checked"
        );
    }
    notify::status("starting: opening the vault");
    let limits = StorageLimits {
        min_free_bytes: config.min_free_bytes,
        files_quota_bytes: config.files_quota_bytes,
    };
    let vault = Vault::open(&data_dir, &master, limits)
        .await
        .context("opening the vault")?;
    let last_stop = if marker.found {
        LastStop {
            clean: false,
            quick_check: Some(check_after_unclean_stop(&vault).await),
        }
    } else {
        LastStop {
            clean: true,
            quick_check: None,
        }
    };

    notify::status("starting: certificates and authentication");
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
    let watchdog_interval = watchdog::interval_from_env();
    let database_sound = last_stop.quick_check.as_ref().is_none_or(|r| r.ok);
    let system = Arc::new(System::new(
        started,
        data_dir.clone(),
        last_stop,
        watchdog_interval,
        IntegrityChecker::new(Arc::clone(&vault.db)),
        Arc::clone(&board),
        // What the keyring uses today for the unattended key.
        board::FileSealer::new(&data_dir.join("keys")).describe(),
    ));
    let (trigger, stop) = shutdown::channel();
    let state = AppState {
        shutdown: stop.clone(),
        vault: Arc::clone(&vault),
        auth: Arc::clone(&auth),
        info: Arc::clone(&info),
        system,
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

    if let Some(path) = &config.console_issue {
        let mut console = Console::new(
            path.clone(),
            Arc::clone(&info),
            Arc::clone(&auth),
            config.listen.ip(),
        );
        console.refresh();
        tokio::spawn(console.follow(stop.clone()));
    }

    // The listeners are bound (connections queue from here) and their
    // servers are spawned: the box serves.
    tracing::info!(
        name = %format!("{}.local", info.hostname),
        https = %format!("https://{https_addr}"),
        http = %format!("http://{http_addr}"),
        ca_fingerprint = %info.ca_fingerprint,
        claimed = auth.is_claimed(),
        startup_ms = started.elapsed().as_millis() as u64,
        "foyerd is ready"
    );
    let ready = ReadyStatus {
        name: info.hostname.clone(),
        database_sound,
    };
    notify::ready(&ready.text(auth.is_claimed()));
    tokio::spawn(follow_status(auth.watch_claimed(), ready, stop.clone()));
    // Unclaimed or Ok from now on, Attention when asked.
    let (attention, attention_rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(led.follow(auth.watch_claimed(), attention_rx, stop.clone()));
    let button = match button::start(board.as_ref(), data_dir.clone(), attention.clone()) {
        Ok(watcher) => watcher,
        Err(e) => {
            // The box works without its button; say so.
            tracing::warn!(error = %e, "the button is not watched");
            None
        }
    };
    if let Some(interval) = watchdog_interval {
        tracing::info!(
            interval_ms = interval.as_millis() as u64,
            "systemd watchdog: pinging every half interval after a liveness check"
        );
        tokio::spawn(watchdog::run(interval, Arc::clone(&vault.db), stop.clone()));
    }

    let signal = shutdown::signal()
        .await
        .context("installing signal handlers")?;
    notify::stopping("stopping: finishing in-flight requests");
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
    if let Some(watcher) = button {
        match tokio::task::spawn_blocking(move || watcher.stop()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the button watcher had stopped with an error")
            }
            Err(e) => tracing::warn!(error = %e, "stopping the button watcher failed"),
        }
    }
    drop(attention);
    vault.close();
    if let Err(e) = marker.remove() {
        // The next start will check the database for nothing; no harm.
        tracing::warn!(error = %e, "cannot remove the running marker");
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// `PRAGMA quick_check` before serving, after an unclean stop. Problems are
/// logged and kept for the status; the box serves anyway, so that the owner
/// can see them and get at what is still readable.
async fn check_after_unclean_stop(vault: &Vault) -> IntegrityReport {
    notify::extend_start_timeout(
        CHECK_TIMEOUT,
        "starting: checking the database after an unclean stop",
    );
    let checked = Instant::now();
    let report = match integrity::quick_check(&vault.db).await {
        Ok(report) => report,
        Err(e) => IntegrityReport::failed(format!("the check could not run: {e}")),
    };
    let took_ms = checked.elapsed().as_millis() as u64;
    if report.ok {
        tracing::info!(took_ms, "database quick check after an unclean stop: ok");
    } else {
        tracing::error!(took_ms, problems = ?report.result, "database quick check after an unclean stop found problems");
    }
    report
}

/// What `systemctl status` shows once the box serves (no secrets: any local
/// user can read it).
struct ReadyStatus {
    name: String,
    database_sound: bool,
}

impl ReadyStatus {
    fn text(&self, claimed: bool) -> String {
        let mut text = format!(
            "ready: {}, {}",
            self.name,
            if claimed { "claimed" } else { "unclaimed" }
        );
        if !self.database_sound {
            text.push_str("; the database check after an unclean stop found problems");
        }
        text
    }
}

/// Keeps the `STATUS=` line in step with the claimed state.
async fn follow_status(
    mut claimed: tokio::sync::watch::Receiver<bool>,
    ready: ReadyStatus,
    mut stop: shutdown::Shutdown,
) {
    loop {
        tokio::select! {
            _ = stop.wait() => return,
            changed = claimed.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = *claimed.borrow_and_update();
                notify::status(&ready.text(now));
            }
        }
    }
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
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(CERT_CHECK_EVERY) => {}
            alive = mdns::lan_changed(&mut lan) => {
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
