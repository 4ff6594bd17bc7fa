//! Arrow arrays → [`ColumnChunk`]s.

use crate::{ColumnChunk, ColumnKind};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;

/// How normshift reads an Arrow type, or `None` when it cannot compare it.
pub(crate) fn arrow_kind(data_type: &DataType) -> Option<ColumnKind> {
    use DataType::*;
    match data_type {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float16 | Float32
        | Float64 | Decimal128(..) => Some(ColumnKind::Numeric),
        Utf8 | LargeUtf8 | Utf8View | Boolean => Some(ColumnKind::Categorical),
        // A column that is missing in every row (pandas/pyarrow write an all-None column with
        // this type): numeric, all missing, so that `drift` reports its missing rate instead
        // of a column that vanished.
        Null => Some(ColumnKind::Numeric),
        // Dictionary-encoded: read as its values are (pandas categoricals of strings,
        // Parquet columns written with dictionary encoding kept, numeric ones included).
        Dictionary(_, value) => arrow_kind(value),
        _ => None,
    }
}

fn validity(array: &dyn Array) -> Option<Vec<bool>> {
    array.logical_nulls().map(|nulls| nulls.iter().collect())
}

fn numeric<T: ArrowPrimitiveType>(
    array: &ArrayRef,
    to_f64: impl Fn(T::Native) -> f64,
) -> ColumnChunk {
    let values = array
        .as_primitive::<T>()
        .values()
        .iter()
        .map(|&v| to_f64(v))
        .collect();
    ColumnChunk::Numeric {
        values,
        valid: validity(array),
    }
}

fn labels(array: &ArrayRef, iter: impl Iterator<Item = Option<String>>) -> ColumnChunk {
    let _ = array;
    ColumnChunk::Categorical(iter.collect())
}

/// A dictionary-encoded column: its dictionary converted as `kind`, then looked up row by
/// row. Null keys and keys pointing at a null value are both missing.
fn dictionary_column(array: &ArrayRef, kind: ColumnKind) -> Result<ColumnChunk, String> {
    let dictionary = array.as_any_dictionary();
    let nulls = array.logical_nulls();
    let missing = |i: usize| nulls.as_ref().is_some_and(|n| n.is_null(i));
    if dictionary.values().is_empty() {
        // No values to point at (arrow's key lookup would panic): every row must be null.
        if (0..array.len()).any(|i| !missing(i)) {
            return Err("a dictionary without values has rows that are not null".to_string());
        }
        return Ok(match kind {
            ColumnKind::Numeric => ColumnChunk::Numeric {
                values: vec![0.0; array.len()],
                valid: Some(vec![false; array.len()]),
            },
            ColumnKind::Categorical => ColumnChunk::Categorical(vec![None; array.len()]),
        });
    }
    let keys = dictionary.normalized_keys();
    Ok(match convert_column(dictionary.values(), kind)? {
        ColumnChunk::Numeric { values, .. } => ColumnChunk::Numeric {
            values: keys.iter().map(|&k| values[k]).collect(),
            valid: nulls.map(|n| n.iter().collect()),
        },
        ColumnChunk::Categorical(labels) => ColumnChunk::Categorical(
            keys.iter()
                .enumerate()
                .map(|(i, &k)| if missing(i) { None } else { labels[k].clone() })
                .collect(),
        ),
    })
}

fn integer_labels<T: ArrowPrimitiveType>(array: &ArrayRef) -> ColumnChunk
where
    T::Native: std::fmt::Display,
{
    ColumnChunk::Categorical(
        array
            .as_primitive::<T>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
    )
}

/// The exact decimal text of `value × 10^-scale`, with `scale` digits after the point
/// (`12345`, scale 2 → `123.45`; `-5`, scale 3 → `-0.005`; `7`, scale -2 → `700`).
fn decimal_text(value: i128, scale: i8) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    if scale <= 0 {
        let zeros = if value == 0 {
            0
        } else {
            usize::from(scale.unsigned_abs())
        };
        return format!("{sign}{digits}{}", "0".repeat(zeros));
    }
    let scale = usize::from(scale.unsigned_abs());
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// Converts one column; `kind` may force categorical reading of a numeric column.
pub(crate) fn convert_column(array: &ArrayRef, kind: ColumnKind) -> Result<ColumnChunk, String> {
    use DataType::*;
    let chunk = match (kind, array.data_type()) {
        (ColumnKind::Numeric, Int8) => numeric::<Int8Type>(array, f64::from),
        (ColumnKind::Numeric, Int16) => numeric::<Int16Type>(array, f64::from),
        (ColumnKind::Numeric, Int32) => numeric::<Int32Type>(array, f64::from),
        // i64/u64 beyond 2^53 round to the nearest f64, as every statistics package does.
        (ColumnKind::Numeric, Int64) => numeric::<Int64Type>(array, |v| v as f64),
        (ColumnKind::Numeric, UInt8) => numeric::<UInt8Type>(array, f64::from),
        (ColumnKind::Numeric, UInt16) => numeric::<UInt16Type>(array, f64::from),
        (ColumnKind::Numeric, UInt32) => numeric::<UInt32Type>(array, f64::from),
        (ColumnKind::Numeric, UInt64) => numeric::<UInt64Type>(array, |v| v as f64),
        (ColumnKind::Numeric, Float16) => numeric::<Float16Type>(array, |v| v.to_f64()),
        (ColumnKind::Numeric, Float32) => numeric::<Float32Type>(array, f64::from),
        (ColumnKind::Numeric, Float64) => numeric::<Float64Type>(array, |v| v),
        (ColumnKind::Numeric, Decimal128(_, scale)) => {
            let div = 10f64.powi(i32::from(*scale));
            numeric::<Decimal128Type>(array, |v| v as f64 / div)
        }
        (ColumnKind::Categorical, Utf8) => labels(
            array,
            array
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_owned)),
        ),
        (ColumnKind::Categorical, LargeUtf8) => labels(
            array,
            array
                .as_string::<i64>()
                .iter()
                .map(|v| v.map(str::to_owned)),
        ),
        (ColumnKind::Categorical, Utf8View) => labels(
            array,
            array.as_string_view().iter().map(|v| v.map(str::to_owned)),
        ),
        (ColumnKind::Categorical, Boolean) => labels(
            array,
            array.as_boolean().iter().map(|v| v.map(|b| b.to_string())),
        ),
        (_, Dictionary(..)) => dictionary_column(array, kind)?,
        // Numeric columns read as categories: the exact text of each value. Integers and
        // decimals are written from their own digits, not through `f64`, which would merge
        // distinct integers beyond 2^53 and print decimals with binary rounding.
        (ColumnKind::Categorical, Int8) => integer_labels::<Int8Type>(array),
        (ColumnKind::Categorical, Int16) => integer_labels::<Int16Type>(array),
        (ColumnKind::Categorical, Int32) => integer_labels::<Int32Type>(array),
        (ColumnKind::Categorical, Int64) => integer_labels::<Int64Type>(array),
        (ColumnKind::Categorical, UInt8) => integer_labels::<UInt8Type>(array),
        (ColumnKind::Categorical, UInt16) => integer_labels::<UInt16Type>(array),
        (ColumnKind::Categorical, UInt32) => integer_labels::<UInt32Type>(array),
        (ColumnKind::Categorical, UInt64) => integer_labels::<UInt64Type>(array),
        (ColumnKind::Categorical, Decimal128(_, scale)) => ColumnChunk::Categorical(
            array
                .as_primitive::<Decimal128Type>()
                .iter()
                .map(|v| v.map(|v| decimal_text(v, *scale)))
                .collect(),
        ),
        (ColumnKind::Numeric, Null) => ColumnChunk::Numeric {
            values: vec![0.0; array.len()],
            valid: Some(vec![false; array.len()]),
        },
        (ColumnKind::Categorical, Null) => ColumnChunk::Categorical(vec![None; array.len()]),
        (ColumnKind::Categorical, t) if arrow_kind(t) == Some(ColumnKind::Numeric) => {
            // A numeric column read as categories: its values' text.
            let ColumnChunk::Numeric { values, valid } =
                convert_column(array, ColumnKind::Numeric)?
            else {
                unreachable!()
            };
            ColumnChunk::Categorical(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| valid.as_ref().is_none_or(|m| m[i]).then(|| v.to_string()))
                    .collect(),
            )
        }
        (_, t) => return Err(format!("type {t} cannot be read as {kind:?}")),
    };
    Ok(chunk)
}
