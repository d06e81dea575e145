//! [`Rule`]: a route's `allow` expression, compiled once, evaluated per call.

use std::sync::{Arc, LazyLock};

use cel::{Context, Env, Program, Value};

use super::{CompileError, RuleError, RuleInput, names};

/// The standard library, shared by every rule and every evaluation.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

/// A compiled `allow` expression.
#[derive(Debug)]
pub struct Rule {
    program: Program,
}

impl Rule {
    /// Parses `source` and checks that it names only what a rule knows (see `names`).
    pub fn compile(source: &str) -> Result<Rule, CompileError> {
        let program = ENV.compile(source).map_err(|e| syntax(source, &e))?;
        names::check(&program)?;
        Ok(Rule { program })
    }

    /// Whether the rule allows this call. An error (a missing claim, a claim of another type, a
    /// result that is not a boolean) is no answer: the caller refuses the call.
    pub fn allows(&self, input: &RuleInput<'_>) -> Result<bool, RuleError> {
        let mut context = Context::with_env(ENV.clone());
        context.set_variable_resolver(input);
        match self.program.execute(&context) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(_) => Err(RuleError("not_a_bool")),
            Err(e) => Err(RuleError::from_execution(&e)),
        }
    }
}

/// The parser's first complaint, with its position.
fn syntax(source: &str, e: &cel::ParseErrors) -> CompileError {
    match e.errors.first() {
        Some(first) => CompileError::Syntax {
            line: usize::try_from(first.pos.0).unwrap_or(1).max(1),
            column: usize::try_from(first.pos.1).unwrap_or(0) + 1,
            message: first.msg.clone(),
        },
        None => CompileError::Syntax {
            line: 1,
            column: source.chars().count().max(1),
            message: e.to_string(),
        },
    }
}
