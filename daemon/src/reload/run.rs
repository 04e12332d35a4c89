//! The pass loop: triggers in (the watcher, SIGHUP, the API's reload requests), passes
//! prepared off the engine thread, their changes applied by the engine as a command.

use super::{
    first_line, log_outcomes, watch, Outcome, Pass, ReloadRefused, Reloaded, Reloader,
    StrategyReload, Trigger,
};
use crate::engine::{Answer, Change, Command, EngineInput};
use std::path::PathBuf;
use tokio::sync::{mpsc, oneshot};

/// Runs reload passes as triggers arrive, until the triggers or the engine go away. Each
/// pass is prepared on a blocking thread (it reads files and compiles), then applied by
/// the engine between two events.
pub async fn run(
    mut reloader: Reloader,
    mut triggers: mpsc::Receiver<Trigger>,
    mut requests: mpsc::Receiver<StrategyReload>,
    engine: mpsc::Sender<EngineInput>,
    mut watcher: Option<watch::Watcher>,
    marker: Option<PathBuf>,
) {
    let retry_after = reloader.grace;
    let (retry_tx, mut retry_rx) = mpsc::channel(1);
    loop {
        let mut request = None;
        let first = tokio::select! {
            trigger = triggers.recv() => match trigger {
                Some(trigger) => trigger,
                None => return,
            },
            Some(()) = retry_rx.recv() => Trigger::Components,
            Some(asked) = requests.recv() => {
                request = Some(asked);
                Trigger::Components
            }
        };
        let mut reread = first.rereads_config();
        // A SIGHUP among the triggers: systemd hears of the reload (RELOADING=1, READY=1).
        let mut signaled = first == Trigger::Signal;
        while let Ok(more) = triggers.try_recv() {
            reread |= more.rereads_config();
            signaled |= more == Trigger::Signal;
        }
        log::debug!(trigger:? = first, reread_config = reread; "reload pass");
        if signaled {
            crate::service::reloading();
        }
        let prepared = tokio::task::spawn_blocking(move || {
            let pass = reloader.prepare(reread);
            (reloader, pass)
        })
        .await;
        let mut pass = match prepared {
            Ok((back, pass)) => {
                reloader = back;
                pass
            }
            Err(err) => {
                log::error!("the reload pass failed: {err}; reloading stops");
                if signaled {
                    crate::service::reload_done(marker.as_deref(), false, "reload failed");
                }
                return;
            }
        };
        if let (true, Some(watcher)) = (reread, watcher.as_mut()) {
            // The configuration may name components in folders not watched yet.
            watcher.add(&reloader.watched_dirs());
        }
        if pass.retry {
            let tx = retry_tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(retry_after).await;
                let _ = tx.try_send(());
            });
        }
        for (id, path) in &pass.waiting {
            log::debug!(strategy = id.as_str(), path:% = path.display(); "waiting for the component file");
        }
        let request = request.and_then(|request| force(&reloader, &mut pass, request));
        if pass.changes.is_empty() {
            if signaled {
                let (ok, status) = match &pass.config_error {
                    Some(err) => (
                        false,
                        format!("configuration not reloaded: {}", first_line(err)),
                    ),
                    None => (true, "reloaded: nothing changed".to_owned()),
                };
                crate::service::reload_done(marker.as_deref(), ok, &status);
            }
            continue;
        }
        let (reply, outcome) = oneshot::channel();
        let pass_config_error = pass.config_error.as_ref().map(first_line);
        let changes = pass.changes;
        let asked = request.as_ref().map(|r| r.id.clone());
        let command = Command::Apply {
            changes,
            version_of: asked,
        };
        if engine
            .send(EngineInput::command(command, reply))
            .await
            .is_err()
        {
            return;
        }
        match outcome.await {
            Ok(Ok(Answer::Applied { outcomes, version })) => {
                if let Some(request) = request {
                    let result = outcomes
                        .iter()
                        .find(|o| o.target == request.id)
                        .map_or_else(
                            || Err(ReloadRefused::Failed("nothing was done".into())),
                            |o| match &o.result {
                                Ok(done) => Ok(Reloaded {
                                    outcome: done.name(),
                                    version: version.clone(),
                                }),
                                Err(reason) => Err(ReloadRefused::Failed(reason.clone())),
                            },
                        );
                    let _ = request.reply.send(result);
                }
                reloader.settle(&outcomes);
                let failed = log_outcomes(&outcomes);
                log::info!(changes = outcomes.len(), failed; "reload applied");
                if signaled {
                    let (ok, status) = match &pass_config_error {
                        Some(err) => (false, format!("configuration not reloaded: {err}")),
                        None => (
                            failed == 0,
                            format!("reloaded: {} changes, {failed} failed", outcomes.len()),
                        ),
                    };
                    crate::service::reload_done(marker.as_deref(), ok, &status);
                }
            }
            // An apply always answers `Applied`; anything else means the engine is gone.
            Ok(_) | Err(_) => return,
        }
    }
}

/// Makes sure an operator's reload of `request.id` does something in `pass`: the pass's
/// own change for it if there is one, else a rebuild from the code it has. Answers at once
/// (and returns `None`) when there is nothing to reload.
fn force(reloader: &Reloader, pass: &mut Pass, request: StrategyReload) -> Option<StrategyReload> {
    let id = request.id.as_str();
    if !reloader.config.strategies.iter().any(|s| s.id() == id) {
        let _ = request
            .reply
            .send(Err(ReloadRefused::Unknown(id.to_owned())));
        return None;
    }
    if let Some((_, path)) = pass.waiting.iter().find(|(w, _)| w == id) {
        let _ = request.reply.send(Err(ReloadRefused::Failed(format!(
            "component file {} not found",
            path.display()
        ))));
        return None;
    }
    if !pass.changes.iter().any(|c| c.target() == id) {
        if reloader.applied.get(id).map(|a| a.outcome) == Some(Outcome::Refused) {
            let _ = request.reply.send(Err(ReloadRefused::Failed(
                "its component file was refused: fix it and save it again".into(),
            )));
            return None;
        }
        pass.changes.push(Change::Restart { id: id.to_owned() });
    }
    Some(request)
}
