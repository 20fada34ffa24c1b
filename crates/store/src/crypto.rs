//! Encryption of personal data at rest (ARCHITECTURE.md, "Personal data").
//!
//! * Values such as ID numbers and phones are encrypted with AES-256-GCM under a data key
//!   from a [`KeyRing`]. The associated data ([`Aad`]) binds each ciphertext to its table,
//!   column and row, so a ciphertext copied to another row or column does not decrypt.
//! * Blob layout: 1 byte format version (1), 4 bytes key id (big-endian), 12 bytes random
//!   nonce, ciphertext with 16-byte tag. The key id makes rotation possible: old keys stay
//!   in the ring, new values use the active key.
//! * [`KeyRing::blind_index`] gives an HMAC-SHA256 token for exact lookup and
//!   de-duplication without decrypting.
//! * Keys live in a JSON key file outside the database, created on first start with mode
//!   0600. Key material never appears in `Debug` output or error messages.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

/// Format version byte at the start of every blob.
const BLOB_VERSION: u8 = 1;
/// Version of the key file format.
const KEY_FILE_VERSION: u32 = 1;
const HEADER_LEN: usize = 1 + 4;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
/// Length of a blind index in hex characters (128 bits).
const BLIND_INDEX_HEX_LEN: usize = 32;

/// Errors of the encryption layer. Messages never contain key material or plaintext.
#[derive(Debug, Error)]
pub enum CryptoError {
    #[error("读写密钥文件 {path} 失败：{source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("密钥文件 {path} 无效：{reason}")]
    InvalidKeyFile { path: PathBuf, reason: String },
    #[error("密文格式无效：长度 {0} 字节，至少应为 {min} 字节", min = HEADER_LEN + NONCE_LEN + TAG_LEN)]
    TooShort(usize),
    #[error("不支持的密文格式版本 {0}")]
    UnsupportedVersion(u8),
    #[error("密钥环中没有编号为 {0} 的数据密钥")]
    UnknownKey(u32),
    #[error("解密失败：密文已被篡改，或不属于此表、字段或记录")]
    Decrypt,
    #[error("解密结果不是有效的 UTF-8 文本")]
    NotUtf8,
}

/// Associated data binding a ciphertext to where it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    pub table: &'a str,
    pub column: &'a str,
    /// The row's key (e.g. its UUID), as text.
    pub row: &'a str,
}

impl Aad<'_> {
    /// Unambiguous encoding: blob header, then each part length-prefixed (u32 BE).
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    fn encode(&self, header: &[u8; HEADER_LEN]) -> Vec<u8> {
        let parts = [self.table, self.column, self.row];
        let mut out = Vec::with_capacity(HEADER_LEN + parts.iter().map(|p| 4 + p.len()).sum::<usize>());
        out.extend_from_slice(header);
        for p in parts {
            let len = u32::try_from(p.len()).expect("AAD part shorter than 4 GiB");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(p.as_bytes());
        }
        out
    }
}

/// The on-disk key file.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    active_key_id: u32,
    data_keys: BTreeMap<u32, String>,
    index_key: String,
}

/// Data keys by id (one active) plus the HMAC key for blind indexes.
#[derive(Clone)]
pub struct KeyRing {
    active_key_id: u32,
    data_keys: BTreeMap<u32, [u8; KEY_LEN]>,
    ciphers: BTreeMap<u32, Aes256Gcm>,
    index_key: [u8; KEY_LEN],
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active_key_id", &self.active_key_id)
            .field("key_ids", &self.data_keys.keys().collect::<Vec<_>>())
            .field("keys", &"<redacted>")
            .finish()
    }
}

fn random_key() -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    OsRng.fill_bytes(&mut k);
    k
}

impl KeyRing {
    fn from_parts(active_key_id: u32, data_keys: BTreeMap<u32, [u8; KEY_LEN]>, index_key: [u8; KEY_LEN]) -> KeyRing {
        let ciphers = data_keys.iter().map(|(id, k)| (*id, Aes256Gcm::new(k.into()))).collect();
        KeyRing { active_key_id, data_keys, ciphers, index_key }
    }

    /// A fresh in-memory key ring (key id 1), e.g. for tests.
    pub fn generate() -> KeyRing {
        KeyRing::from_parts(1, BTreeMap::from([(1, random_key())]), random_key())
    }

    /// Loads the key file at `path`, or creates it with fresh random keys if it does not
    /// exist (creating parent directories; the file gets mode 0600 on unix before any key
    /// material is written, and appears atomically). If another process creates the file
    /// at the same moment, its keys win and are loaded.
    pub fn load_or_create(path: &Path) -> Result<KeyRing, CryptoError> {
        match fs::read_to_string(path) {
            Ok(text) => return KeyRing::parse(path, &text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(CryptoError::Io { path: path.to_path_buf(), source }),
        }
        let ring = KeyRing::generate();
        if ring.write_file(path, false)? {
            Ok(ring)
        } else {
            // Lost a creation race: use the keys that are on disk.
            let text =
                fs::read_to_string(path).map_err(|source| CryptoError::Io { path: path.to_path_buf(), source })?;
            KeyRing::parse(path, &text)
        }
    }

    /// Writes the ring to `path` atomically, replacing an existing file (e.g. after
    /// [`KeyRing::rotate`]). Keep old keys: blobs name the key they were made with.
    pub fn save(&self, path: &Path) -> Result<(), CryptoError> {
        self.write_file(path, true).map(|_| ())
    }

    /// Adds a fresh random data key and makes it active; returns its id. In memory only:
    /// call [`KeyRing::save`] to persist.
    pub fn rotate(&mut self) -> u32 {
        let id = self.data_keys.keys().next_back().map_or(1, |max| max + 1);
        let key = random_key();
        self.ciphers.insert(id, Aes256Gcm::new((&key).into()));
        self.data_keys.insert(id, key);
        self.active_key_id = id;
        id
    }

    /// Id of the key used for new ciphertexts.
    pub fn active_key_id(&self) -> u32 {
        self.active_key_id
    }

    /// Ids of all data keys in the ring, ascending.
    pub fn key_ids(&self) -> Vec<u32> {
        self.data_keys.keys().copied().collect()
    }

    fn parse(path: &Path, text: &str) -> Result<KeyRing, CryptoError> {
        let invalid = |reason: String| CryptoError::InvalidKeyFile { path: path.to_path_buf(), reason };
        // Report only the position of a JSON error: serde_json messages may quote values.
        let file: KeyFile = serde_json::from_str(text)
            .map_err(|e| invalid(format!("JSON 格式错误（第 {} 行第 {} 列）", e.line(), e.column())))?;
        if file.version != KEY_FILE_VERSION {
            return Err(invalid(format!("不支持的版本 {}", file.version)));
        }
        let decode = |what: &str, hex_key: &str| -> Result<[u8; KEY_LEN], CryptoError> {
            let bytes = hex::decode(hex_key.trim()).map_err(|_| invalid(format!("{what}不是有效的十六进制")))?;
            <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| invalid(format!("{what}长度应为 {KEY_LEN} 字节")))
        };
        if file.data_keys.is_empty() {
            return Err(invalid("没有数据密钥".into()));
        }
        let mut data_keys = BTreeMap::new();
        for (id, k) in &file.data_keys {
            data_keys.insert(*id, decode(&format!("数据密钥 {id} "), k)?);
        }
        if !data_keys.contains_key(&file.active_key_id) {
            return Err(invalid(format!("当前密钥编号 {} 不在数据密钥中", file.active_key_id)));
        }
        let index_key = decode("索引密钥", &file.index_key)?;
        Ok(KeyRing::from_parts(file.active_key_id, data_keys, index_key))
    }

    /// Writes the key file via a 0600 temp file in the same directory. With
    /// `replace == false` the file is linked into place only if none exists yet and
    /// `Ok(false)` is returned when one does.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    fn write_file(&self, path: &Path, replace: bool) -> Result<bool, CryptoError> {
        let io_err = |source: io::Error| CryptoError::Io { path: path.to_path_buf(), source };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir).map_err(io_err)?;

        let file = KeyFile {
            version: KEY_FILE_VERSION,
            active_key_id: self.active_key_id,
            data_keys: self.data_keys.iter().map(|(id, k)| (*id, hex::encode(k))).collect(),
            index_key: hex::encode(self.index_key),
        };
        let mut json = serde_json::to_vec_pretty(&file).expect("key file serializes");
        json.push(b'\n');

        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "keys".into());
        let tmp = dir.join(format!(".{name}.tmp-{}-{:016x}", std::process::id(), OsRng.next_u64()));
        let result = (|| -> io::Result<bool> {
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            // The mode applies at creation, before any key material is written.
            let mut f = opts.open(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            drop(f);
            let placed = if replace {
                fs::rename(&tmp, path)?;
                true
            } else {
                // hard_link fails if `path` exists, so a concurrent creator is never
                // overwritten (which would orphan data encrypted under its keys).
                match fs::hard_link(&tmp, path) {
                    Ok(()) => true,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
                    Err(_) if !path.exists() => {
                        // File systems without hard links.
                        fs::rename(&tmp, path)?;
                        true
                    }
                    Err(e) => return Err(e),
                }
            };
            #[cfg(unix)]
            if let Ok(d) = fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(placed)
        })();
        // Gone already after a rename; otherwise remove the temp copy.
        let _ = fs::remove_file(&tmp);
        result.map_err(io_err)
    }

    /// Encrypts `plaintext` with the active key, bound to `aad`.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn encrypt(&self, aad: &Aad, plaintext: &str) -> Vec<u8> {
        let cipher = &self.ciphers[&self.active_key_id];
        let mut header = [0u8; HEADER_LEN];
        header[0] = BLOB_VERSION;
        header[1..].copy_from_slice(&self.active_key_id.to_be_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: &aad.encode(&header) })
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + ct.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts a blob made by [`KeyRing::encrypt`] with the key named in the blob.
    /// Fails if the blob was altered or `aad` differs from the one used to encrypt.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn decrypt(&self, aad: &Aad, blob: &[u8]) -> Result<String, CryptoError> {
        let key_id = key_id_of(blob)?;
        let cipher = self.ciphers.get(&key_id).ok_or(CryptoError::UnknownKey(key_id))?;
        let header: &[u8; HEADER_LEN] = blob[..HEADER_LEN].try_into().expect("length checked");
        let nonce = &blob[HEADER_LEN..HEADER_LEN + NONCE_LEN];
        let pt = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload { msg: &blob[HEADER_LEN + NONCE_LEN..], aad: &aad.encode(header) },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(pt).map_err(|_| CryptoError::NotUtf8)
    }

    /// Keyed, deterministic token for exact lookup and de-duplication:
    /// HMAC-SHA256(index key, `kind` ‖ 0x00 ‖ `normalized_value`), hex, first 32 chars.
    /// `kind` (e.g. "citizen_id", "phone") separates domains; normalize the value first
    /// (e.g. a parsed `CitizenId`).
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn blind_index(&self, kind: &str, normalized_value: &str) -> String {
        debug_assert!(!kind.contains('\0'), "blind index kind must not contain NUL");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("HMAC accepts any key length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalized_value.as_bytes());
        let mut out = hex::encode(mac.finalize().into_bytes());
        out.truncate(BLIND_INDEX_HEX_LEN);
        out
    }
}

/// The key id a blob was encrypted with (to find values still under an old key).
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub fn key_id_of(blob: &[u8]) -> Result<u32, CryptoError> {
    if blob.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(CryptoError::TooShort(blob.len()));
    }
    if blob[0] != BLOB_VERSION {
        return Err(CryptoError::UnsupportedVersion(blob[0]));
    }
    Ok(u32::from_be_bytes(blob[1..HEADER_LEN].try_into().expect("4 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: Aad<'static> = Aad { table: "person", column: "id_number", row: "0190c6a2-0000-7000-8000-000000000001" };

    #[test]
    fn round_trip() {
        let ring = KeyRing::generate();
        let blob = ring.encrypt(&AAD, "11010519491231002X");
        assert_eq!(blob[0], 1);
        assert_eq!(&blob[1..5], &1u32.to_be_bytes());
        assert_eq!(blob.len(), 1 + 4 + 12 + 18 + 16);
        assert_eq!(ring.decrypt(&AAD, &blob).unwrap(), "11010519491231002X");
        assert_eq!(ring.decrypt(&AAD, &ring.encrypt(&AAD, "")).unwrap(), "");
        assert_eq!(ring.decrypt(&AAD, &ring.encrypt(&AAD, "张三 138")).unwrap(), "张三 138");
    }

    #[test]
    fn nonces_are_random() {
        let ring = KeyRing::generate();
        assert_ne!(ring.encrypt(&AAD, "x"), ring.encrypt(&AAD, "x"));
    }

    #[test]
    fn wrong_row_fails() {
        let ring = KeyRing::generate();
        let blob = ring.encrypt(&AAD, "13812345678");
        let other = Aad { row: "0190c6a2-0000-7000-8000-000000000002", ..AAD };
        assert!(matches!(ring.decrypt(&other, &blob), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn wrong_column_or_table_fails() {
        let ring = KeyRing::generate();
        let blob = ring.encrypt(&AAD, "13812345678");
        let col = Aad { column: "phone", ..AAD };
        assert!(matches!(ring.decrypt(&col, &blob), Err(CryptoError::Decrypt)));
        let table = Aad { table: "volunteer", ..AAD };
        assert!(matches!(ring.decrypt(&table, &blob), Err(CryptoError::Decrypt)));
        // Length prefixes keep shifted boundaries apart.
        let a = Aad { table: "ab", column: "c", row: "1" };
        let b = Aad { table: "a", column: "bc", row: "1" };
        assert!(ring.decrypt(&b, &ring.encrypt(&a, "v")).is_err());
    }

    #[test]
    fn tampering_fails() {
        let ring = KeyRing::generate();
        let blob = ring.encrypt(&AAD, "11010519491231002X");
        for i in HEADER_LEN..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x01;
            assert!(matches!(ring.decrypt(&AAD, &t), Err(CryptoError::Decrypt)), "byte {i}");
        }
        let mut t = blob.clone();
        t[0] = 2;
        assert!(matches!(ring.decrypt(&AAD, &t), Err(CryptoError::UnsupportedVersion(2))));
        let mut t = blob.clone();
        t[4] = 9;
        assert!(matches!(ring.decrypt(&AAD, &t), Err(CryptoError::UnknownKey(9))));
        assert!(matches!(ring.decrypt(&AAD, &blob[..20]), Err(CryptoError::TooShort(20))));
        // A different ring cannot decrypt.
        assert!(KeyRing::generate().decrypt(&AAD, &blob).is_err());
    }

    #[test]
    fn blind_index_deterministic_and_separated_by_kind() {
        let ring = KeyRing::generate();
        let a = ring.blind_index("citizen_id", "11010519491231002X");
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, ring.blind_index("citizen_id", "11010519491231002X"));
        assert_ne!(a, ring.blind_index("phone", "11010519491231002X"));
        assert_ne!(a, ring.blind_index("citizen_id", "110105194912310021"));
        // kind/value boundary is unambiguous.
        assert_ne!(ring.blind_index("ab", "c"), ring.blind_index("a", "bc"));
        // Keyed: another ring gives another token.
        assert_ne!(a, KeyRing::generate().blind_index("citizen_id", "11010519491231002X"));
    }

    #[test]
    fn debug_hides_keys() {
        let ring = KeyRing::generate();
        let dbg = format!("{ring:?}");
        assert!(dbg.contains("redacted"));
        assert!(!dbg.contains(&hex::encode(ring.index_key)));
        assert!(!dbg.contains(&hex::encode(ring.data_keys[&1])));
        assert!(!dbg.contains(&format!("{:?}", ring.index_key)));
    }

    #[test]
    fn load_or_create_creates_private_file_then_loads_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/keys.json");
        let first = KeyRing::load_or_create(&path).unwrap();
        assert!(path.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temp files left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("keys.json")]);

        let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["active_key_id"], 1);
        assert_eq!(json["data_keys"]["1"].as_str().unwrap().len(), 64);
        assert_eq!(json["index_key"].as_str().unwrap().len(), 64);

        let second = KeyRing::load_or_create(&path).unwrap();
        let blob = first.encrypt(&AAD, "13812345678");
        assert_eq!(second.decrypt(&AAD, &blob).unwrap(), "13812345678");
        assert_eq!(first.blind_index("phone", "13812345678"), second.blind_index("phone", "13812345678"));
    }

    #[test]
    fn concurrent_first_start_agrees_on_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let rings: Vec<KeyRing> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| KeyRing::load_or_create(&path).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let on_disk = KeyRing::load_or_create(&path).unwrap();
        for r in &rings {
            assert_eq!(r.blind_index("citizen_id", "x"), on_disk.blind_index("citizen_id", "x"));
            let blob = r.encrypt(&AAD, "v");
            assert_eq!(on_disk.decrypt(&AAD, &blob).unwrap(), "v");
        }
    }

    #[test]
    fn rotation_keeps_old_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let mut ring = KeyRing::load_or_create(&path).unwrap();
        let old = ring.encrypt(&AAD, "old");
        assert_eq!(ring.rotate(), 2);
        ring.save(&path).unwrap();
        let new = ring.encrypt(&AAD, "new");
        assert_eq!(key_id_of(&new).unwrap(), 2);
        assert_eq!(key_id_of(&old).unwrap(), 1);

        let reloaded = KeyRing::load_or_create(&path).unwrap();
        assert_eq!(reloaded.active_key_id(), 2);
        assert_eq!(reloaded.key_ids(), vec![1, 2]);
        assert_eq!(reloaded.decrypt(&AAD, &old).unwrap(), "old");
        assert_eq!(reloaded.decrypt(&AAD, &new).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn loads_documented_format_and_rejects_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let k1 = "11".repeat(32);
        let k2 = "22".repeat(32);
        let ik = "33".repeat(32);
        fs::write(
            &path,
            format!(r#"{{"version":1,"active_key_id":2,"data_keys":{{"1":"{k1}","2":"{k2}"}},"index_key":"{ik}"}}"#),
        )
        .unwrap();
        let ring = KeyRing::load_or_create(&path).unwrap();
        assert_eq!(ring.active_key_id(), 2);
        assert_eq!(ring.key_ids(), vec![1, 2]);

        let bad = |content: String| {
            fs::write(&path, content).unwrap();
            let e = KeyRing::load_or_create(&path).unwrap_err();
            assert!(matches!(e, CryptoError::InvalidKeyFile { .. }), "{e}");
            e.to_string()
        };
        let msg = bad(format!(r#"{{"version":1,"active_key_id":3,"data_keys":{{"1":"{k1}"}},"index_key":"{ik}"}}"#));
        assert!(msg.contains("当前密钥编号 3"), "{msg}");
        let msg = bad(format!(
            r#"{{"version":1,"active_key_id":1,"data_keys":{{"1":"{}"}},"index_key":"{ik}"}}"#,
            "ab".repeat(16)
        ));
        assert!(msg.contains("长度应为 32 字节"), "{msg}");
        bad(format!(r#"{{"version":2,"active_key_id":1,"data_keys":{{"1":"{k1}"}},"index_key":"{ik}"}}"#));
        bad(format!(r#"{{"version":1,"active_key_id":1,"data_keys":{{}},"index_key":"{ik}"}}"#));
        bad(format!(r#"{{"version":1,"active_key_id":1,"data_keys":{{"1":"zz{}"}},"index_key":"{ik}"}}"#, &k1[2..]));
        // JSON errors do not echo key material.
        let msg = bad(format!(r#"{{"version":1,"active_key_id":1,"data_keys":["{k1}"],"index_key":"{ik}"}}"#));
        assert!(!msg.contains(&k1), "{msg}");
        bad("not json".into());
    }
}
