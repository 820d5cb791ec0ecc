//! Errors and parsing shared by every game's assets: each game parses its own config and maps
//! from TOML text (reading the files is the server's job; this crate does no I/O), and every
//! error names the file and the field.

/// Why an asset file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssetError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: field `{field}`: {message}")]
    Invalid {
        file: String,
        field: String,
        message: String,
    },
}

impl AssetError {
    /// A field of `file` that parsed but is not acceptable.
    pub fn invalid(file: &str, field: impl Into<String>, message: impl Into<String>) -> AssetError {
        AssetError::Invalid {
            file: file.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses TOML into `T`; `file` names it in errors. With `#[serde(deny_unknown_fields)]` on `T`,
/// a misspelt key is an error naming it rather than a silent default.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, AssetError> {
    toml::from_str(text).map_err(|e| AssetError::Parse {
        file: file.to_string(),
        message: e.message().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        size: u16,
    }

    #[test]
    fn a_parse_error_names_the_file_and_the_key() {
        let ok = parse_toml::<Probe>("probe.toml", "size = 3").expect("valid");
        assert_eq!(ok.size, 3, "parsed");
        let err = parse_toml::<Probe>("probe.toml", "sise = 3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("probe.toml") && err.contains("sise"), "{err}");
    }
}
