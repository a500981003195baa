use clap::Parser;
use confab_proxy::Config;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "confab_proxy=info".into()),
        )
        .init();
    let config = Config::parse();
    let listener = match TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "confab-proxy: cannot listen on {}: {error}. Is another server using that port? Pick another with --listen.",
                config.listen
            );
            std::process::exit(1);
        }
    };
    if let Err(error) = confab_proxy::serve(config, listener).await {
        eprintln!("confab-proxy: server error: {error}");
        std::process::exit(1);
    }
}
