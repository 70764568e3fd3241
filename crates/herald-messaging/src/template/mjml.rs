//! MJML compiled to HTML with [`mrml`]; its errors with the line and column in the source.
//! `mj-include` is refused (mrml's default loader loads nothing): a template reads only its
//! context, and shared parts are Liquid snippets.

use mrml::prelude::parser::Error as ParseError;
use mrml::prelude::render::RenderOptions;

use super::TemplateError;

/// Compile an MJML document to HTML.
pub fn compile(source: &str) -> Result<String, TemplateError> {
    let parsed = mrml::parse(source).map_err(|e| parse_error(source, &e))?;
    parsed
        .element
        .render(&RenderOptions::default())
        .map_err(|e| TemplateError {
            code: "mjml_invalid",
            part: "body",
            message: format!("MJML does not render: {e}"),
            line: None,
            column: None,
        })
}

fn parse_error(source: &str, e: &ParseError) -> TemplateError {
    let offset = match e {
        ParseError::UnexpectedElement { position, .. }
        | ParseError::UnexpectedToken { position, .. }
        | ParseError::MissingAttribute { position, .. }
        | ParseError::InvalidAttribute { position, .. }
        | ParseError::InvalidFormat { position, .. }
        | ParseError::IncludeLoaderError { position, .. } => Some(position.start),
        ParseError::EndOfStream { .. } => Some(source.len()),
        _ => None,
    };
    let (line, column) = offset.map_or((None, None), |o| {
        let (l, c) = line_column(source, o);
        (Some(l), Some(c))
    });
    TemplateError {
        code: "mjml_invalid",
        part: "body",
        message: format!("MJML does not parse: {e}"),
        line,
        column,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(source: &str, offset: usize) -> (u32, u32) {
    let mut end = offset.min(source.len());
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    let before = &source[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line as u32, column as u32)
}

#[cfg(test)]
pub(super) fn line_column_for_tests(source: &str, offset: usize) -> (u32, u32) {
    line_column(source, offset)
}
