//! The checked-in schema (`schema.graphql`) is the schema the code builds: a change to the
//! API shows up in review. After a deliberate change, regenerate it with
//! `HERALD_UPDATE_SCHEMA=1 cargo test -p herald-graphql --test schema`.

#[test]
fn the_checked_in_schema_is_the_one_the_code_builds() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let built = herald_graphql::sdl();
    if std::env::var_os("HERALD_UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &built).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == built,
        "the GraphQL schema changed and crates/herald-graphql/schema.graphql was not updated: \
         review the change, then run HERALD_UPDATE_SCHEMA=1 cargo test -p herald-graphql --test schema"
    );
}
