//! Dictionaries: each distinct string gets a dense `u32` code, in order of first sight.

use std::collections::HashMap;
use std::sync::Arc;

/// Strings to dense codes and back; one allocation per distinct string.
#[derive(Debug, Default, Clone)]
pub(crate) struct Dict {
    codes: HashMap<Arc<str>, u32>,
    texts: Vec<Arc<str>>,
}

impl Dict {
    pub(crate) fn intern(&mut self, text: &str) -> u32 {
        if let Some(&code) = self.codes.get(text) {
            return code;
        }
        let code = self.texts.len() as u32;
        let text: Arc<str> = Arc::from(text);
        self.texts.push(text.clone());
        self.codes.insert(text, code);
        code
    }

    pub(crate) fn get(&self, text: &str) -> Option<u32> {
        self.codes.get(text).copied()
    }

    pub(crate) fn text(&self, code: u32) -> &str {
        &self.texts[code as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.texts.len()
    }

    pub(crate) fn texts(&self) -> impl Iterator<Item = &str> {
        self.texts.iter().map(|t| &**t)
    }

    /// Bytes held, roughly: the strings, and a map and a vector entry per string.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.texts.iter().map(|t| t.len() + 16).sum::<usize>() + self.texts.len() * 48
    }
}

/// Profile ids to dense person ids. Herald's profile ids are UUIDs, kept as 16 bytes; any
/// other text is kept as text.
#[derive(Debug, Default, Clone)]
pub(crate) struct Persons {
    uuids: HashMap<u128, u32>,
    others: HashMap<Box<str>, u32>,
    ids: Vec<PersonName>,
}

#[derive(Debug, Clone)]
enum PersonName {
    Uuid(u128),
    Text(Box<str>),
}

impl Persons {
    pub(crate) fn intern(&mut self, profile: &str) -> u32 {
        let next = self.ids.len() as u32;
        match uuid::Uuid::try_parse(profile) {
            Ok(u) if u.hyphenated().to_string() == profile => {
                let key = u.as_u128();
                *self.uuids.entry(key).or_insert_with(|| {
                    self.ids.push(PersonName::Uuid(key));
                    next
                })
            }
            _ => {
                if let Some(&p) = self.others.get(profile) {
                    return p;
                }
                self.others.insert(profile.into(), next);
                self.ids.push(PersonName::Text(profile.into()));
                next
            }
        }
    }

    pub(crate) fn get(&self, profile: &str) -> Option<u32> {
        match uuid::Uuid::try_parse(profile) {
            Ok(u) if u.hyphenated().to_string() == profile => self.uuids.get(&u.as_u128()).copied(),
            _ => self.others.get(profile).copied(),
        }
    }

    pub(crate) fn profile(&self, person: u32) -> String {
        match &self.ids[person as usize] {
            PersonName::Uuid(u) => uuid::Uuid::from_u128(*u).hyphenated().to_string(),
            PersonName::Text(t) => t.to_string(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.uuids.capacity() * 24 + self.others.capacity() * 40 + self.ids.capacity() * 24
    }
}
