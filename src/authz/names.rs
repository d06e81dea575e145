//! The names a rule may use. The CEL crate has no type checker: without this, a typo
//! (`claim.email`, `request.pth`, `sizeof(groups)`) would compile and fail on every call.
//! Variables bound by a macro (`groups.exists(g, …)`) are known inside it.

use cel::Program;
use cel::common::ast::{EntryExpr, Expr, IdedExpr, SourceInfo};

use super::CompileError;

/// The variables a rule sees.
const VARIABLES: [&str; 4] = ["claims", "groups", "request", "session"];

/// The fields of the variables that have fixed ones, and how an error lists them.
const FIELDS: [(&str, &[&str], &str); 2] = [
    (
        "request",
        &["method", "path"],
        "request.method, request.path",
    ),
    (
        "session",
        &["auth_time", "acr"],
        "session.auth_time, session.acr",
    ),
];

/// Operators (as the parser names them, the macros' expansions included) and the standard
/// functions a rule may call. Not `matches`: the CEL library compiles its regular expression on
/// every call (tens of milliseconds for some patterns), which would let any signed-in user spend
/// the proxy's CPU; `startsWith`, `endsWith`, `contains` and `in` cover what routes need.
const FUNCTIONS: [&str; 29] = [
    "_&&_",
    "_||_",
    "!_",
    "_?_:_",
    "_==_",
    "_!=_",
    "_<_",
    "_<=_",
    "_>_",
    "_>=_",
    "_+_",
    "_-_",
    "_*_",
    "_/_",
    "_%_",
    "-_",
    "_[_]",
    "@in",
    "@not_strictly_false",
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "type",
];

/// Refuses the first unknown variable, field or function of `program`.
pub(super) fn check(program: &Program) -> Result<(), CompileError> {
    let mut walk = Walk {
        info: program.source_info(),
        bound: Vec::new(),
    };
    walk.expr(program.expression())
}

struct Walk<'p> {
    info: &'p SourceInfo,
    /// Variables of the macros around the node being checked.
    bound: Vec<&'p str>,
}

impl<'p> Walk<'p> {
    fn expr(&mut self, e: &'p IdedExpr) -> Result<(), CompileError> {
        match &e.expr {
            Expr::Ident(name) => self.variable(e, name),
            Expr::Select(s) => {
                if let Expr::Ident(root) = &s.operand.expr {
                    self.field(e, root, &s.field)?;
                }
                self.expr(&s.operand)
            }
            Expr::Call(call) => {
                if !FUNCTIONS.contains(&call.func_name.as_str()) {
                    let (line, column) = self.position(e);
                    return Err(CompileError::UnknownFunction {
                        line,
                        column,
                        name: call.func_name.clone(),
                    });
                }
                call.target.iter().try_for_each(|t| self.expr(t))?;
                call.args.iter().try_for_each(|a| self.expr(a))
            }
            Expr::List(list) => list.elements.iter().try_for_each(|x| self.expr(x)),
            Expr::Map(map) => map.entries.iter().try_for_each(|entry| match &entry.expr {
                EntryExpr::MapEntry(m) => self.expr(&m.key).and_then(|()| self.expr(&m.value)),
                EntryExpr::StructField(f) => self.expr(&f.value),
            }),
            Expr::Struct(s) => {
                let (line, column) = self.position(e);
                Err(CompileError::Message {
                    line,
                    column,
                    name: s.type_name.clone(),
                })
            }
            Expr::Comprehension(c) => {
                self.expr(&c.iter_range)?;
                self.expr(&c.accu_init)?;
                let outer = self.bound.len();
                self.bound.push(&c.iter_var);
                self.bound.extend(c.iter_var2.as_deref());
                self.bound.push(&c.accu_var);
                let inner = [&c.loop_cond, &c.loop_step, &c.result];
                let checked = inner.iter().try_for_each(|x| self.expr(x));
                self.bound.truncate(outer);
                checked
            }
            Expr::Literal(_) | Expr::Unspecified => Ok(()),
        }
    }

    fn variable(&self, e: &IdedExpr, name: &str) -> Result<(), CompileError> {
        if VARIABLES.contains(&name) || self.bound.contains(&name) {
            return Ok(());
        }
        let (line, column) = self.position(e);
        Err(CompileError::UnknownVariable {
            line,
            column,
            name: name.to_owned(),
        })
    }

    /// `request.x` and `session.x` must be fields they have (unless a macro's variable has the
    /// name).
    fn field(&self, e: &IdedExpr, root: &str, field: &str) -> Result<(), CompileError> {
        if self.bound.contains(&root) {
            return Ok(());
        }
        match FIELDS.iter().find(|(v, _, _)| *v == root) {
            Some((variable, fields, known)) if !fields.contains(&field) => {
                let (line, column) = self.position(e);
                Err(CompileError::UnknownField {
                    line,
                    column,
                    variable,
                    field: field.to_owned(),
                    known,
                })
            }
            _ => Ok(()),
        }
    }

    /// Line and column (1-based, in characters) where node `e` starts.
    fn position(&self, e: &IdedExpr) -> (usize, usize) {
        let Some((start, _)) = self.info.offset_for(e.id) else {
            return (1, 1);
        };
        let before: String = self.info.source.chars().take(start as usize).collect();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }
}
