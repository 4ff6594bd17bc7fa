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
        Dictionary(_, value) if matches!(value.as_ref(), Utf8 | LargeUtf8) => {
            Some(ColumnKind::Categorical)
        }
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
        (ColumnKind::Categorical, Dictionary(..)) => {
            let dict = array.as_any_dictionary();
            let values = arrow_array::cast::as_string_array(dict.values().as_ref()).clone();
            let keys = dict.normalized_keys();
            let nulls = array.logical_nulls();
            let out = keys
                .iter()
                .enumerate()
                .map(|(i, &k)| {
                    if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                        None
                    } else {
                        Some(values.value(k).to_owned())
                    }
                })
                .collect();
            ColumnChunk::Categorical(out)
        }
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
