//! Math filters: `plus`, `minus`, `times`, `divided_by`, `modulo`, `abs`, `ceil`, `floor`,
//! `round`, `at_least`, `at_most`.

use super::{arg, FilterId};
use crate::error::Error;
use crate::number::{arith, cmp_num, float_to_i, round, to_number, Num, Op};
use crate::value::Value;

pub(super) fn arithmetic(id: FilterId, input: &Value, args: &[Value]) -> Result<Value, Error> {
    let op = match id {
        FilterId::Plus => Op::Add,
        FilterId::Minus => Op::Sub,
        FilterId::Times => Op::Mul,
        FilterId::DividedBy => Op::Div,
        _ => Op::Rem,
    };
    arith(to_number(input), to_number(arg(args, 0)), op)
        .map(Num::into_value)
        .map_err(Error::filter)
}

pub(super) fn rounding(id: FilterId, input: &Value, args: &[Value]) -> Result<Value, Error> {
    let n = to_number(input);
    let out = match id {
        FilterId::Abs => match n {
            Num::Int(i) => i
                .checked_abs()
                .map_or(Num::Float((i as f64).abs()), Num::Int),
            Num::Float(f) => Num::Float(f.abs()),
        },
        FilterId::Ceil => Num::Int(match n {
            Num::Int(i) => i,
            Num::Float(f) => float_to_i(f.ceil()),
        }),
        FilterId::Floor => Num::Int(match n {
            Num::Int(i) => i,
            Num::Float(f) => float_to_i(f.floor()),
        }),
        FilterId::Round => {
            let digits = match to_number(arg(args, 0)) {
                Num::Int(i) => i,
                Num::Float(f) => float_to_i(f),
            };
            // Ruby: zero or negative digits give an integer.
            round(n, digits)
        }
        FilterId::AtLeast | FilterId::AtMost => {
            let bound = to_number(arg(args, 0));
            let ord = cmp_num(bound, n);
            let take_bound = match id {
                FilterId::AtLeast => ord == Some(std::cmp::Ordering::Greater),
                _ => ord == Some(std::cmp::Ordering::Less),
            };
            if take_bound {
                bound
            } else {
                n
            }
        }
        _ => n,
    };
    Ok(out.into_value())
}
