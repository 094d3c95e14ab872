//! What the verifier believed, laid out for people: [`model`] gathers, per instruction, the
//! states the verifier met, its log lines, whether the path was pruned and whether the
//! instruction lies on the path to a rejection; [`graph`] turns the program into basic blocks
//! laid out as SVG; [`html`] writes the self-contained `verify --html` page.

pub mod graph;
pub mod html;
pub mod model;

pub use model::{Model, Row};
