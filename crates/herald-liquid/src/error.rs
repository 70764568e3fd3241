//! The one error type of the crate: a stable kind, a message and, where known, a location.

use serde::Serialize;

/// What went wrong. Each kind has a stable snake_case code (see [`Error::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The template is not valid Liquid (bad expression, unclosed block, misplaced tag, ...).
    Syntax,
    /// A `{% tag %}` Herald's Liquid does not know.
    UnknownTag,
    /// A filter Herald's Liquid does not know (only when `strict_filters` is on).
    UnknownFilter,
    /// A filter got the wrong number or kind of arguments, or failed on its input
    /// (`divided_by: 0`, `map` over numbers, bad base64, ...).
    FilterArgument,
    /// A value of the wrong type where the template needs another (`'2' > 1`, `limit: 'x'`).
    Type,
    /// A variable or property that does not exist (only when `strict_variables` is on).
    UndefinedVariable,
    /// The rendered output (or a string or array built while rendering) passed `max_output_bytes`.
    OutputLimit,
    /// The loop iterations of one render passed `max_loop_iterations`.
    LoopLimit,
    /// `include`/`render` nested deeper than `max_render_depth`.
    RenderDepth,
    /// Tags or expressions nested deeper than the parser allows.
    NestingDepth,
    /// The loader has no partial of that name.
    TemplateNotFound,
    /// The template (or a partial) source is larger than `max_template_bytes`.
    TemplateTooLarge,
}

impl ErrorKind {
    /// The stable code of this kind.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "liquid_syntax",
            ErrorKind::UnknownTag => "unknown_tag",
            ErrorKind::UnknownFilter => "unknown_filter",
            ErrorKind::FilterArgument => "filter_argument",
            ErrorKind::Type => "liquid_type",
            ErrorKind::UndefinedVariable => "undefined_variable",
            ErrorKind::OutputLimit => "output_limit",
            ErrorKind::LoopLimit => "loop_limit",
            ErrorKind::RenderDepth => "render_depth",
            ErrorKind::NestingDepth => "nesting_depth",
            ErrorKind::TemplateNotFound => "template_not_found",
            ErrorKind::TemplateTooLarge => "template_too_large",
        }
    }
}

/// A parse or render error: kind, human message and 1-based location when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", location_suffix(*.line, *.column))]
pub struct Error {
    kind: ErrorKind,
    message: String,
    line: Option<u32>,
    column: Option<u32>,
}

/// A piece of template source short enough for an error message.
pub(crate) fn snippet(s: &str) -> String {
    let t = s.trim();
    match t.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

fn location_suffix(line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub(crate) fn syntax(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Syntax, message)
    }

    pub(crate) fn filter(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::FilterArgument, message)
    }

    /// Sets the location unless one is already set (the innermost location wins).
    pub(crate) fn at(mut self, line: u32, column: u32) -> Self {
        if self.line.is_none() {
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable snake_case code, e.g. `liquid_syntax` or `output_limit`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The message, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 1-based line of the template where the error was found, when known.
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// 1-based column (in characters) where the error was found, when known.
    pub fn column(&self) -> Option<u32> {
        self.column
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Error", 4)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("line", &self.line)?;
        s.serialize_field("column", &self.column)?;
        s.end()
    }
}
