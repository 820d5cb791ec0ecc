//! TLS client configuration for both transports (wss and https), always on rustls's ring
//! provider, never on a process-wide default.
//!
//! Two configurations exist per process, built once and shared by every connection: one that
//! verifies the server against the webpki roots, and one (`insecure`) that accepts any
//! certificate, for the server's self-signed development certificate. Even the insecure one checks
//! the handshake signatures with the provider's algorithms, so it is still TLS with a key the
//! server holds, just not one anybody vouched for.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Why a TLS configuration could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsError {
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The shared client configuration: webpki roots, or (`insecure`) any certificate. ALPN offers
/// only `http/1.1`, which both the WebSocket upgrade and the REST client speak.
pub fn client_config(insecure: bool) -> Result<Arc<ClientConfig>, TlsError> {
    static SECURE: OnceLock<Result<Arc<ClientConfig>, TlsError>> = OnceLock::new();
    static INSECURE: OnceLock<Result<Arc<ClientConfig>, TlsError>> = OnceLock::new();
    let cell = if insecure { &INSECURE } else { &SECURE };
    cell.get_or_init(|| build(insecure).map(Arc::new)).clone()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build(insecure: bool) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth()
    } else {
        let roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts any server certificate (the `--insecure` mode) but still verifies that the server
/// signed the handshake with the certificate's key.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_configurations_build_and_are_shared() {
        for insecure in [false, true] {
            let first = client_config(insecure).expect("config builds");
            let second = client_config(insecure).expect("config builds again");
            assert!(Arc::ptr_eq(&first, &second), "built once per process");
            assert_eq!(
                first.alpn_protocols,
                vec![b"http/1.1".to_vec()],
                "offers http/1.1 only"
            );
        }
    }
}
