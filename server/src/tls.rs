//! TLS with rustls: operator-provided PEM files, or a self-signed development certificate made
//! once with rcgen in the data directory and reused after.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("cannot make the development certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Where the development certificate lives in the data directory.
pub fn dev_cert_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    (data_dir.join("dev-cert.pem"), data_dir.join("dev-key.pem"))
}

/// Makes the development certificate (for localhost, 127.0.0.1 and ::1) unless it exists.
pub fn ensure_dev_cert(data_dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let (cert_path, key_path) = dev_cert_paths(data_dir);
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)?;
    std::fs::write(&cert_path, certified.cert.pem()).map_err(|source| TlsError::Write {
        path: cert_path.clone(),
        source,
    })?;
    crate::auth::write_private(&key_path, &certified.key_pair.serialize_pem()).map_err(
        |source| TlsError::Write {
            path: key_path.clone(),
            source,
        },
    )?;
    Ok((cert_path, key_path))
}

/// A rustls server config from PEM files, offering only HTTP/1.1 (WebSockets upgrade over it).
pub fn server_config(cert_path: &Path, key_path: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(cert_path)?;
    let key = read_key(key_path)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            path: path.to_path_buf(),
            message: "no certificate found".into(),
        });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
        .ok_or_else(|| TlsError::Pem {
            path: path.to_path_buf(),
            message: "no private key found".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_certificate_is_made_once_and_loads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (cert, key) = ensure_dev_cert(dir.path()).expect("made");
        let first = std::fs::read(&cert).expect("cert written");
        ensure_dev_cert(dir.path()).expect("second call");
        assert_eq!(
            std::fs::read(&cert).expect("cert"),
            first,
            "reused, not remade"
        );
        server_config(&cert, &key).expect("rustls accepts it");
    }

    #[test]
    fn a_missing_key_file_names_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (cert, _) = ensure_dev_cert(dir.path()).expect("made");
        let err = server_config(&cert, &dir.path().join("nope.pem"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope.pem"), "{err}");
    }
}
