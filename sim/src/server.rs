//! The one accept loop of the simulators' TCP servers (printer, acquirer host).

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Accepts connections on `listener` until `stop` is set, serving each on its own thread
/// (`<name>-client`). The listener is polled, so that setting `stop` ends the loop within a
/// few milliseconds and the owner can join the returned thread in its `Drop`.
pub(crate) fn accept_loop<F>(
    name: &str,
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    on_client: F,
) -> io::Result<JoinHandle<()>>
where
    F: Fn(TcpStream) + Send + Sync + 'static,
{
    listener.set_nonblocking(true)?;
    let on_client = Arc::new(on_client);
    let client_name = format!("{name}-client");
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            while !stop.load(Ordering::Acquire) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let serve = on_client.clone();
                        let spawned = std::thread::Builder::new()
                            .name(client_name.clone())
                            .spawn(move || serve(stream));
                        if let Err(e) = spawned {
                            tracing::warn!(error = %e, "cannot start a client thread");
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        })
}
