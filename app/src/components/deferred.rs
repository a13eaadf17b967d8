//! A view built when it is rendered, not when the server looks for what it
//! waits for.
//!
//! Before a `Suspense` or `Transition` renders on the server, it walks what
//! it shows to find the data that must arrive first (`dry_resolve`), and
//! walks again once they have arrived, in case they reveal more; each walk
//! calls the view's closures and builds what they return, and the render
//! that follows builds it once more. A page's whole screen (a channel with
//! fifty messages and their forms) was built twice for each page served.
//! A [`Deferred`] screen is built only by the render (or, in the browser,
//! by hydration), once.
//!
//! Invariant: what a deferred view shows waits for nothing the walk would
//! have found: its data come from the page's own `Suspend` (see
//! [`crate::codec::page_data`]), and anything it loads itself sits in a
//! `Suspense` or `Transition` of its own, which waits for it in its turn.

use leptos::prelude::*;
use leptos::reactive::owner::Owner;
use leptos::tachys::html::attribute::{Attribute, any_attribute::AnyAttribute};
use leptos::tachys::hydration::Cursor;
use leptos::tachys::ssr::StreamBuilder;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Position, PositionState, Render, RenderHtml};

/// A view that `build` makes when it is rendered or hydrated, in the
/// reactive scope where it was created.
pub struct Deferred {
    owner: Option<Owner>,
    build: Box<dyn FnOnce() -> AnyView + Send>,
}

/// Defers building `view` until it is rendered (see the module's notes).
pub fn deferred<V: IntoView + 'static>(view: impl FnOnce() -> V + Send + 'static) -> Deferred {
    Deferred { owner: Owner::current(), build: Box::new(move || view().into_any()) }
}

impl Deferred {
    fn view(self) -> AnyView {
        match self.owner {
            Some(owner) => owner.with(self.build),
            None => (self.build)(),
        }
    }
}

impl Render for Deferred {
    type State = <AnyView as Render>::State;

    fn build(self) -> Self::State {
        self.view().build()
    }

    fn rebuild(self, state: &mut Self::State) {
        self.view().rebuild(state)
    }
}

impl AddAnyAttr for Deferred {
    type Output<SomeNewAttr: Attribute> = <AnyView as AddAnyAttr>::Output<SomeNewAttr>;

    fn add_any_attr<NewAttr: Attribute>(self, attr: NewAttr) -> Self::Output<NewAttr>
    where
        Self::Output<NewAttr>: RenderHtml,
    {
        self.view().add_any_attr(attr)
    }
}

impl RenderHtml for Deferred {
    type AsyncOutput = AnyView;
    type Owned = Self;

    const MIN_LENGTH: usize = 0;

    /// The walk looking for data: nothing to build, nothing to find.
    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> AnyView {
        self.view().resolve().await
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.view().to_html_with_buf(buf, position, escape, mark_branches, extra_attrs)
    }

    fn to_html_async_with_buf<const OUT_OF_ORDER: bool>(
        self,
        buf: &mut StreamBuilder,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.view().to_html_async_with_buf::<OUT_OF_ORDER>(buf, position, escape, mark_branches, extra_attrs)
    }

    fn hydrate<const FROM_SERVER: bool>(self, cursor: &Cursor, position: &PositionState) -> Self::State {
        self.view().hydrate::<FROM_SERVER>(cursor, position)
    }

    fn into_owned(self) -> Self {
        self
    }
}
