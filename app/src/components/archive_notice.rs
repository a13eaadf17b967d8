//! Above an encrypted conversation of a workspace that archives them: who
//! the archiving member is, and until the reader agrees to it, the button
//! that agrees (a form, so it works without JavaScript too). The server
//! refuses their messages here until then, saying the same.

use crate::api::ConsentToArchive;
use crate::components::errors::{FieldError, form_error};
use crate::wire::EncryptedArchiveDto;
use leptos::prelude::*;

#[component]
pub fn ArchiveNotice(
    archive: EncryptedArchiveDto,
    workspace_id: String,
    /// Bumped once the reader agreed: the page is read again.
    reload: RwSignal<u32>,
) -> impl IntoView {
    let Some(archivist) = archive.archivist else { return ().into_any() };
    let consent = ServerAction::<ConsentToArchive>::new();
    Effect::new(move || {
        if matches!(consent.value().get(), Some(Ok(()))) {
            reload.update(|n| *n += 1);
        }
    });
    let said = format!(
        "🗄 Archived: @{} ({}) is a member of every encrypted conversation in this workspace and reads them on \
         its own devices, for the workspace's archive.",
        archivist.username, archivist.display_name
    );
    let agree = (!archive.consented).then(|| {
        view! {
            <p class="hint">"You can read here; to send, agree to this first."</p>
            <ActionForm action=consent attr:class="inline" attr:aria-label="Agree to the archive">
                <input type="hidden" name="workspace_id" value=workspace_id />
                <button type="submit">"Agree and continue"</button>
            </ActionForm>
            <FieldError id="archive-consent-error" message=form_error(consent.value()) />
        }
    });
    view! {
        <div class="archive-note" role="note" data-consented=if archive.consented { "true" } else { "false" }>
            <p>{said}</p>
            {agree}
        </div>
    }
    .into_any()
}
