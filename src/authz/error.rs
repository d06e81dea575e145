//! Why a rule does not compile, or did not give an answer.

/// A rule refused at start-up and by `check-config`. Positions are 1-based, in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "line {line}, column {column}: unknown variable `{name}` (a rule knows claims, groups, \
         request and session)"
    )]
    UnknownVariable {
        line: usize,
        column: usize,
        name: String,
    },
    #[error("line {line}, column {column}: unknown field `{variable}.{field}` (known: {known})")]
    UnknownField {
        line: usize,
        column: usize,
        variable: &'static str,
        field: String,
        known: &'static str,
    },
    #[error("line {line}, column {column}: unknown function `{name}`")]
    UnknownFunction {
        line: usize,
        column: usize,
        name: String,
    },
    #[error("line {line}, column {column}: message literals (`{name}{{…}}`) are not supported")]
    Message {
        line: usize,
        column: usize,
        name: String,
    },
}

/// A rule that gave no answer: a claim it reads is missing or of another type, or its result is
/// not a boolean. The call is refused, as if the rule had said no.
///
/// Deliberately without the interpreter's error as a source: its message quotes the values it
/// failed on, which are the user's claims, and those never reach a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the rule failed: {0}")]
pub struct RuleError(pub &'static str);

impl RuleError {
    /// The kind of failure, for logs and metrics (`no_such_key`, `no_such_overload`, …).
    pub fn kind(&self) -> &'static str {
        self.0
    }

    pub(super) fn from_execution(e: &cel::ExecutionError) -> Self {
        use cel::ExecutionError as E;
        RuleError(match e {
            E::NoSuchKey(_) => "no_such_key",
            E::NoSuchOverload(_) | E::UnexpectedType { .. } | E::UnsupportedTargetType { .. } => {
                "wrong_type"
            }
            E::UndeclaredReference(_) => "undeclared_reference",
            E::ValuesNotComparable(..) | E::UnsupportedBinaryOperator(..) => "wrong_type",
            E::IndexOutOfBounds(_) => "index_out_of_bounds",
            E::DivisionByZero(_) | E::RemainderByZero(_) | E::Overflow(..) => "arithmetic",
            _ => "evaluation",
        })
    }
}
