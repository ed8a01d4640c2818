//! A chunk of points, or of roll-up buckets, as one compact blob: how history sits on disk.
//!
//! A blob is, in this order (integers little-endian, "varint" is LEB128):
//!
//! - 1 byte, the format version ([`VERSION`]);
//! - 1 byte, what it holds: `P` points, `B` buckets;
//! - 4 bytes, an FNV-1a checksum of every byte after it (pco has none, and a flipped bit would
//!   otherwise decode into a wrong number rather than an error);
//! - a varint, the count;
//! - when the count is not 0, each column as a varint length and that many bytes of one pco
//!   standalone file: points `t` (u64) and `v` (f64); buckets `t` (u64), `min`, `max`, `mean`,
//!   `last` (f64) and `count` (u32). pco finds on its own what suits a column: deltas for regular
//!   timestamps, a common step such as 0.01 for values, a constant.
//!
//! An empty chunk is the header and a count of 0. Values round-trip bit for bit. The store only
//! keeps finite values (its callers drop NaN and infinities before a point gets here); encoding
//! skips nothing, so other values pass through pco unchanged too, but only finite ones are tested.

use pco::data_types::Number;
use pco::errors::PcoError;
use pco::standalone::{FileDecompressor, simple_compress};
use pco::{ChunkConfig, DEFAULT_COMPRESSION_LEVEL};

use super::{Bucket, Point};

/// The format version, the blob's first byte.
pub const VERSION: u8 = 1;

/// The kind byte of a chunk of points.
const POINTS: u8 = b'P';
/// The kind byte of a chunk of buckets.
const BUCKETS: u8 = b'B';
/// Version, kind and checksum.
const HEADER: usize = 6;

/// Why a blob does not decode.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The blob stops before its end.
    #[error("the blob is cut short: it ends inside its {0}")]
    Truncated(&'static str),
    /// Not a blob of this codec, or of a newer one.
    #[error("not a history blob of a known version (its first byte is {0}, this codec reads {VERSION})")]
    Version(u8),
    /// A blob of buckets read as points, or the other way round: (what was asked for, what the
    /// blob holds).
    #[error("a blob of {1} where {0} were expected")]
    Kind(&'static str, &'static str),
    /// Bytes after the last column.
    #[error("{0} unexpected bytes after the last column")]
    Trailing(usize),
    /// The bytes are not those that were written.
    #[error("the blob's checksum does not match: it changed after it was written")]
    Checksum,
    /// A column pco cannot read: (its name, what pco said).
    #[error("the column `{0}` does not decompress: {1}")]
    Column(&'static str, #[source] PcoError),
    /// A column with another number of values than the blob's count: (its name, how many it holds,
    /// the count).
    #[error("the column `{0}` holds {1} values, the blob's count is {2}")]
    Count(&'static str, usize, usize),
}

/// A chunk of points as a blob. Never fails: `seal` says why pco cannot here.
pub fn encode_points(points: &[Point]) -> Vec<u8> {
    let t: Vec<u64> = points.iter().map(|p| p.t).collect();
    let v: Vec<f64> = points.iter().map(|p| p.v).collect();
    seal(POINTS, points.len(), || Ok(vec![compress(&t)?, compress(&v)?]))
}

/// The points of a blob made by [`encode_points`].
pub fn decode_points(blob: &[u8]) -> Result<Vec<Point>, CodecError> {
    let (count, [t, v]) = open(blob, POINTS, ["t", "v"])?;
    let t = column::<u64>(t, "t", count)?;
    let v = column::<f64>(v, "v", count)?;
    Ok(t.into_iter().zip(v).map(|(t, v)| Point { t, v }).collect())
}

/// A chunk of buckets as a blob. Never fails: `seal` says why pco cannot here.
pub fn encode_buckets(buckets: &[Bucket]) -> Vec<u8> {
    let t: Vec<u64> = buckets.iter().map(|b| b.t).collect();
    let field = |f: fn(&Bucket) -> f64| buckets.iter().map(f).collect::<Vec<f64>>();
    let (min, max, mean, last) = (field(|b| b.min), field(|b| b.max), field(|b| b.mean), field(|b| b.last));
    let count: Vec<u32> = buckets.iter().map(|b| b.count).collect();
    seal(BUCKETS, buckets.len(), || {
        Ok(vec![compress(&t)?, compress(&min)?, compress(&max)?, compress(&mean)?, compress(&last)?, compress(&count)?])
    })
}

/// The buckets of a blob made by [`encode_buckets`].
pub fn decode_buckets(blob: &[u8]) -> Result<Vec<Bucket>, CodecError> {
    let names = ["t", "min", "max", "mean", "last", "count"];
    let (n, [t, min, max, mean, last, count]) = open(blob, BUCKETS, names)?;
    let t = column::<u64>(t, "t", n)?;
    let (min, max) = (column::<f64>(min, "min", n)?, column::<f64>(max, "max", n)?);
    let (mean, last) = (column::<f64>(mean, "mean", n)?, column::<f64>(last, "last", n)?);
    let count = column::<u32>(count, "count", n)?;
    Ok((0..n)
        .map(|i| Bucket { t: t[i], min: min[i], max: max[i], mean: mean[i], last: last[i], count: count[i] })
        .collect())
}

/// One column as a pco standalone file.
fn compress<T: Number>(values: &[T]) -> Result<Vec<u8>, PcoError> {
    simple_compress(values, &ChunkConfig::default().with_compression_level(DEFAULT_COMPRESSION_LEVEL))
}

/// The blob of `count` items of `kind` whose columns `columns` compresses.
///
/// pco fails only for an invalid configuration (this one is its default), 8-bit numbers (none
/// here) or a writer that fails (a `Vec` does not), and it splits long inputs into pages of its
/// own: compressing cannot fail. Were it ever to, the chunk is logged and stored as an empty but
/// valid blob, so that one chunk is lost rather than the writer stopped.
fn seal(kind: u8, count: usize, columns: impl FnOnce() -> Result<Vec<Vec<u8>>, PcoError>) -> Vec<u8> {
    let columns = if count == 0 { Ok(Vec::new()) } else { columns() };
    let (count, columns) = columns.map(|columns| (count, columns)).unwrap_or_else(|e| {
        tracing::error!(count, kind = kind_name(kind), "history chunk not stored: {e}");
        (0, Vec::new())
    });
    let mut out = vec![VERSION, kind, 0, 0, 0, 0];
    put_varint(&mut out, count as u64);
    for column in columns {
        put_varint(&mut out, column.len() as u64);
        out.extend_from_slice(&column);
    }
    let sum = checksum(&out[HEADER..]);
    out[2..HEADER].copy_from_slice(&sum.to_le_bytes());
    out
}

/// The count and the `N` column slices of a blob of `kind`, its layout and checksum checked.
fn open<'a, const N: usize>(
    blob: &'a [u8],
    kind: u8,
    names: [&'static str; N],
) -> Result<(usize, [&'a [u8]; N]), CodecError> {
    let Some(([version, found, stored @ ..], mut rest)) = blob.split_first_chunk::<HEADER>() else {
        return Err(CodecError::Truncated("header"));
    };
    if *version != VERSION {
        return Err(CodecError::Version(*version));
    }
    if *found != kind {
        return Err(CodecError::Kind(kind_name(kind), kind_name(*found)));
    }
    let checked = rest;
    let count = varint(&mut rest, "count")?;
    let mut columns = [&[][..]; N];
    if count > 0 {
        for (column, name) in columns.iter_mut().zip(names) {
            let len = varint(&mut rest, name)?;
            let (bytes, tail) = rest.split_at_checked(len).ok_or(CodecError::Truncated(name))?;
            (*column, rest) = (bytes, tail);
        }
    }
    if !rest.is_empty() {
        return Err(CodecError::Trailing(rest.len()));
    }
    if *stored != checksum(checked).to_le_bytes() {
        return Err(CodecError::Checksum);
    }
    Ok((count, columns))
}

/// The `count` values of one column.
fn column<T: Number>(bytes: &[u8], name: &'static str, count: usize) -> Result<Vec<T>, CodecError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let pco = |e| CodecError::Column(name, e);
    let (file, rest) = FileDecompressor::new(bytes).map_err(pco)?;
    // The file's own count hint is untrusted: reserve for the blob's count, which was checked.
    let file = file.with_max_prealloc(count.saturating_mul(size_of::<T>()));
    let values = file.simple_decompress::<T>(rest).map_err(pco)?;
    if values.len() != count {
        return Err(CodecError::Count(name, values.len(), count));
    }
    Ok(values)
}

/// What a kind byte stands for.
fn kind_name(kind: u8) -> &'static str {
    match kind {
        POINTS => "points",
        BUCKETS => "buckets",
        _ => "an unknown kind",
    }
}

/// 32-bit FNV-1a: any one changed byte changes it.
fn checksum(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, &b| (hash ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// `n` as LEB128: 7 bits a byte, low bits first, the top bit set on all bytes but the last.
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The LEB128 number at the front of `rest`, the count or length of `what`, taken off it.
fn varint(rest: &mut &[u8], what: &'static str) -> Result<usize, CodecError> {
    let mut n: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&byte, tail) = rest.split_first().ok_or(CodecError::Truncated(what))?;
        *rest = tail;
        n |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            // A length beyond the address space cannot be followed by that many bytes.
            return usize::try_from(n).map_err(|_| CodecError::Truncated(what));
        }
    }
    Err(CodecError::Truncated(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), so that failures repeat.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    const START: u64 = 1_760_000_000_000;

    /// 3600 points a second apart, valued by `value`.
    fn hour(mut value: impl FnMut(&mut Rng) -> f64) -> Vec<Point> {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        (0..3600).map(|i| Point { t: START + i * 1000, v: value(&mut rng) }).collect()
    }

    fn cpu_walk() -> Vec<Point> {
        let mut v: f64 = 30.0;
        hour(|rng| {
            v = (v + (rng.next() % 4001) as f64 / 1000.0 - 2.0).clamp(0.0, 100.0);
            (v * 100.0).round() / 100.0
        })
    }

    fn counter() -> Vec<Point> {
        let mut n = 1_000_000u64;
        hour(|rng| {
            n += rng.next() % 5000;
            n as f64
        })
    }

    fn bits(points: &[Point]) -> Vec<(u64, u64)> {
        points.iter().map(|p| (p.t, p.v.to_bits())).collect()
    }

    fn some_buckets() -> Vec<Bucket> {
        let mut rng = Rng(7);
        (0..600u64)
            .map(|i| {
                let (a, b) = ((rng.next() % 99_999) as f64 / 7.0, (rng.next() % 99_999) as f64 / 7.0);
                let (min, max) = (a.min(b), a.max(b));
                let count = 1 + (rng.next() % 600) as u32;
                Bucket { t: START / 60_000 * 60_000 + i * 60_000, min, max, mean: (min + max) / 2.0, last: b, count }
            })
            .collect()
    }

    #[test]
    fn points_round_trip_bit_for_bit() {
        let odd = [0.0, -0.0, 5e-324, f64::MIN_POSITIVE, f64::MAX, f64::MIN, 0.1 + 0.2, -1e300, 1.0 / 3.0];
        let mut unusual: Vec<Point> = odd.iter().enumerate().map(|(i, &v)| Point { t: i as u64 * 7, v }).collect();
        unusual.extend([Point { t: u64::MAX, v: 1.0 }, Point { t: 0, v: 2.0 }, Point { t: 0, v: 3.0 }]);
        for points in [cpu_walk(), counter(), hour(|_| 42.0), unusual, vec![Point { t: 5, v: -1.5 }]] {
            let decoded = decode_points(&encode_points(&points)).expect("decodes");
            assert_eq!(bits(&decoded), bits(&points));
        }
    }

    #[test]
    fn buckets_round_trip_bit_for_bit() {
        let buckets = some_buckets();
        let decoded = decode_buckets(&encode_buckets(&buckets)).expect("decodes");
        let bits = |b: &[Bucket]| -> Vec<_> {
            b.iter().map(|b| (b.t, [b.min, b.max, b.mean, b.last].map(f64::to_bits), b.count)).collect()
        };
        assert_eq!(bits(&decoded), bits(&buckets));
        let one = [Bucket { t: 0, min: -0.0, max: f64::MAX, mean: 1.0, last: 5e-324, count: u32::MAX }];
        assert_eq!(bits(&decode_buckets(&encode_buckets(&one)).expect("decodes")), bits(&one));
    }

    #[test]
    fn an_empty_chunk_is_a_valid_blob() {
        let points = encode_points(&[]);
        assert_eq!(decode_points(&points).expect("decodes"), []);
        let buckets = encode_buckets(&[]);
        assert_eq!(decode_buckets(&buckets).expect("decodes"), []);
        assert_eq!((points.len(), buckets.len()), (HEADER + 1, HEADER + 1));
    }

    type Decode = fn(&[u8]) -> Result<(), CodecError>;
    const POINTS_OF: Decode = |b| decode_points(b).map(drop);
    const BUCKETS_OF: Decode = |b| decode_buckets(b).map(drop);

    /// Blobs of up to `n` points and of up to `n / 6` buckets, and an empty one, each with the
    /// decoder that reads it.
    fn blobs(n: usize) -> [(Vec<u8>, Decode); 3] {
        let buckets = encode_buckets(&some_buckets()[..n / 6]);
        [(encode_points(&cpu_walk()[..n]), POINTS_OF), (buckets, BUCKETS_OF), (encode_buckets(&[]), BUCKETS_OF)]
    }

    #[test]
    fn every_truncation_is_an_error() {
        for (blob, decode) in blobs(3600) {
            decode(&blob).expect("the whole blob decodes");
            for len in 0..blob.len() {
                assert!(matches!(decode(&blob[..len]), Err(CodecError::Truncated(_))), "{len} of {}", blob.len());
            }
        }
    }

    #[test]
    fn every_flipped_bit_is_an_error() {
        for (blob, decode) in blobs(300) {
            for bit in 0..blob.len() * 8 {
                let mut changed = blob.clone();
                changed[bit / 8] ^= 1 << (bit % 8);
                assert!(decode(&changed).is_err(), "bit {bit} of {}", blob.len());
            }
        }
    }

    #[test]
    fn garbage_and_foreign_blobs_are_errors_not_panics() {
        let mut rng = Rng(42);
        for len in [0, 1, 5, 6, 7, 20, 100, 1000, 10_000] {
            for _ in 0..20 {
                let mut blob: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                assert!(decode_points(&blob).is_err() && decode_buckets(&blob).is_err(), "{blob:?}");
                // A valid layout and checksum around columns of pco's magic and noise: only pco
                // stands in the way.
                for (kind, columns, decode) in [(POINTS, 2, POINTS_OF), (BUCKETS, 6, BUCKETS_OF)] {
                    let mut forged = vec![VERSION, kind, 0, 0, 0, 0];
                    put_varint(&mut forged, rng.next() % 5000 + 1);
                    blob.truncate(len / columns);
                    let column = [&b"pco!\x03"[..], &blob].concat();
                    for _ in 0..columns {
                        put_varint(&mut forged, column.len() as u64);
                        forged.extend_from_slice(&column);
                    }
                    let sum = checksum(&forged[HEADER..]).to_le_bytes();
                    forged[2..HEADER].copy_from_slice(&sum);
                    let result = decode(&forged);
                    assert!(matches!(result, Err(CodecError::Column(..) | CodecError::Count(..))), "{result:?}");
                }
            }
        }
        let points = encode_points(&cpu_walk());
        let err = decode_buckets(&points).expect_err("points are not buckets");
        assert_eq!(err.to_string(), "a blob of points where buckets were expected");
        assert!(matches!(decode_points(&encode_buckets(&some_buckets())), Err(CodecError::Kind(..))));
        let mut newer = points.clone();
        newer[0] = 2;
        assert!(decode_points(&newer).expect_err("newer").to_string().contains("first byte is 2"));
        let mut longer = points;
        longer.push(0);
        assert!(matches!(decode_points(&longer), Err(CodecError::Trailing(1))));
    }

    #[test]
    #[allow(clippy::print_stdout)] // the measure, read with --nocapture
    fn an_hour_at_one_hertz_costs_well_under_4_bytes_a_point() {
        let mut jitter = cpu_walk();
        let mut rng = Rng(3);
        jitter.iter_mut().for_each(|p| p.t += rng.next() % 10);
        for (name, points, limit) in [
            ("cpu-like random walk, 2 decimals", cpu_walk(), 2.0),
            ("integer counter", counter(), 2.0),
            ("constant", hour(|_| 42.0), 0.1),
            ("cpu-like walk, times jittered 0-9 ms", jitter, 4.0),
        ] {
            let per_point = encode_points(&points).len() as f64 / points.len() as f64;
            println!("{name}: {per_point:.3} bytes a point, timestamp included");
            assert!(per_point < limit, "{name}: {per_point} bytes a point");
        }
    }
}
