//! The pipeline every request that goes upstream runs, in order, in one function.
//!
//! ```text
//! ingress      the route named the format; check its headers
//! auth         virtual key -> principal (401 for a missing, unknown, revoked key)
//! admission    in-flight permit (fast 503), body within max_body_bytes (413)
//! ingress      decode the head: model, stream flags
//! auth         the principal's model allow-list (403)
//! guard.input  redact, mask, strip or block the prompt (400); the hook, before or
//!              alongside dispatch
//! route        model alias -> ordered plan of targets (strategy, health, fallbacks)
//! limits       reserve RPM / TPM / concurrency / budget (429), at the plan's prices
//! transforms   the answer's stages: output guard, cache recorder, budget cut-off
//! dispatch     attempt loop up to the commit point (breakers, retries, hedging)
//! guard.output a whole answer redacted, blocked or restored (streams: a transform)
//! egress       the answer (whole, or the relay's stream) in the ingress format
//! finish       when the record is dropped: limits settle, metrics, journal, access line
//! ```
//!
//! Auth and the load-shedding half of admission come before the body is read, so a
//! refused request costs no read of up to `max_body_bytes`. Limits come after routing
//! (a lookup with no I/O) because a budget reserves at the targets' prices.
//!
//! Must never branch on a capability inside a stage: each capability is a stage of its
//! own here, or a transform in the relay, or an end stage in `finish`.

use crate::admission::{self, Permit};
use crate::auth;
use crate::dispatch::{Answer, Call, Canonical, Committed, ResumePlan, dispatch};
use crate::egress;
use crate::error::GatewayError;
use crate::finish::Open;
use crate::guard;
use crate::ingress::Ingest;
use crate::limits;
use crate::record::{Dispatch, Interaction};
use crate::relay::Transforms;
use crate::request_id::RequestId;
use crate::resilience::deadline;
use crate::routing;
use crate::state::{Gateway, Shared, Snapshot};
use crate::trace_context::TraceContext;
use axum::extract::Request;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;

pub async fn run(
    gw: Arc<Gateway>,
    req: Request,
    ingest: &'static Ingest,
    RequestId { id, stamp }: RequestId,
) -> Response {
    let started = Instant::now();
    let snapshot = gw.snapshot();
    let mut record = gw
        .shared
        .finisher
        .open(Interaction::start(id, ingest.name, started));
    if gw.shared.tracer.is_some() {
        record.trace = Some(TraceContext::from_headers(req.headers()));
    }
    let result = stages(&gw.shared, &snapshot, req, ingest, &mut record).await;
    let mut response = egress::respond(result, ingest.ingress, record);
    stamp.put_on(&mut response, Some(ingest.ingress));
    response
}

async fn stages(
    shared: &Shared,
    snapshot: &Arc<Snapshot>,
    req: Request,
    ingest: &Ingest,
    record: &mut Open,
) -> Result<(Committed, Permit), GatewayError> {
    let forward = (ingest.check_headers)(req.headers())?;
    let principal = auth::authenticate(snapshot, &shared.keys, req.headers())?;
    if let Some(p) = &principal {
        record.key = Some(p.name.clone());
        record.team.clone_from(&p.team);
    }
    // Headers some provider's `forward_headers` may want, kept only when one lists any.
    let client_headers = snapshot
        .forwards_client_headers
        .then(|| req.headers().clone());
    let budget = deadline::requested(req.headers())
        .map_or(snapshot.server.request_timeout, |asked| {
            asked.min(snapshot.server.request_timeout)
        });
    let deadline = tokio::time::Instant::now() + budget;
    let permit = admission::admit(shared)?;
    let body = admission::read_body(req, snapshot.server.max_body_bytes).await?;
    let head = ingest.head(&body)?;
    record.model.clone_from(&head.model);
    record.stream = head.stream;
    auth::allow_model(principal.as_deref(), &head.model)?;
    let (body, screening) = guard::input(
        &snapshot.guard,
        principal.as_deref(),
        ingest,
        body,
        &mut record.guard,
    )?;
    let hook = guard::hook_for(&snapshot.guard, screening.as_ref(), ingest, &body);
    let hook = match hook {
        Some((hook, prompt)) if !hook.parallel() => {
            // Boxed, as the race below: the hook's HTTP call is a large future most
            // requests never make.
            verdict(Box::pin(hook.judge(prompt)).await, record)?;
            None
        }
        other => other,
    };
    let keep_bodies = snapshot.journal_bodies;
    if keep_bodies {
        record.keep_bodies = true;
        record.request_body = Some(body.clone());
    }
    let plan = routing::plan(
        &snapshot.routes,
        &snapshot.upstreams,
        &snapshot.breaker,
        &head.model,
    )?;
    record.route = Some(plan.route.name.clone());
    let admitted = limits::reserve(
        &shared.limiter,
        &snapshot.limits,
        limits::Request {
            principal: principal.as_deref(),
            route: &plan.route.name,
            body: &body,
            targets: &plan.targets,
            pricing: &snapshot.pricing,
            lease: &record.request_id,
            stream: head.stream,
            generates: ingest.endpoint != crate::upstream::Endpoint::Embeddings,
        },
    )
    .await?;
    record.rate = admitted.headers;
    record.reservation = admitted.reservation.map(Box::new);
    let output = guard::output_plan(&snapshot.guard, screening.as_ref(), ingest);
    let transforms = Transforms::for_request(
        output.filter(|_| head.stream),
        keep_bodies,
        admitted.cut,
        plan.most_answer_bytes(&snapshot.upstreams),
    );
    let call = Call {
        ingress: ingest.ingress,
        endpoint: ingest.endpoint,
        body: &body,
        requested_model: &head.model,
        stream: head.stream,
        forward: &forward,
        client_headers: client_headers.as_ref(),
        usage_requested: head.usage_requested,
        transforms: &transforms,
        canonical: Canonical::default(),
        trace: record.trace,
        deadline,
        resume: plan.route.resume.as_ref().map(|config| ResumePlan {
            snapshot: Arc::clone(snapshot),
            targets: plan.targets.clone(),
            config: config.clone(),
        }),
    };
    // Dispatch is awaited where it is made, and the hook's race is boxed: a future held
    // in a variable and moved into another is stored twice in this one, which every
    // request carries (and moves) whole (measured: 38,920 bytes before).
    record.dispatch = Dispatch::Running;
    let (judged, dispatched) = match hook {
        None => (
            None,
            Some(dispatch(snapshot, &plan, &call, &mut record.attempt_log).await),
        ),
        Some((hook, prompt)) => {
            let dispatching = dispatch(snapshot, &plan, &call, &mut record.attempt_log);
            let (judged, dispatched) =
                Box::pin(guard::alongside(hook.judge(prompt), dispatching)).await;
            (Some(judged), dispatched)
        }
    };
    // A hook's refusal may have dropped dispatch mid-way: it stays `Running`.
    if dispatched.is_some() {
        record.dispatch = Dispatch::Returned;
    }
    let dispatched = dispatched.unwrap_or(Err(GatewayError::GuardUnavailable));
    // Failed, refused by the hook or not, the record and the response say what was tried.
    record.attempts = u32::try_from(record.attempt_log.len()).unwrap_or(u32::MAX);
    record.provider = record.attempt_log.last().map(|a| a.provider.clone());
    if let Some(judged) = judged {
        verdict(judged, record)?;
    }
    let mut committed = dispatched?;
    record.provider = Some(committed.upstream.name.clone());
    record.upstream_model = Some(committed.model.clone());
    record.price = limits::pricing::lookup(&snapshot.pricing, &committed.model);
    record.notes = std::mem::take(&mut committed.notes);
    if let Answer::Full { bytes, usage } = &mut committed.answer {
        // The provider was paid for it even if the guard refuses it.
        record.usage = *usage;
        let screened = guard::answer(
            screening.as_ref(),
            ingest,
            std::mem::take(bytes),
            &mut record.guard,
        )?;
        *bytes = screened.body;
        if let (true, Some(journal)) = (record.keep_bodies, screened.journal) {
            record.response_body = Some(crate::journal::entry::body_text(&journal));
        }
    }
    Ok((committed, permit))
}

/// The hook's verdict into the record; a refusal ends the request.
fn verdict(verdict: guard::hook::Verdict, record: &mut Open) -> Result<(), GatewayError> {
    record.guard.extend(verdict.findings);
    record.hook = Some(verdict.outcome);
    verdict.refusal.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// axum's and tower's layers move every request's future by value, so what a stage
    /// leaves inline here is copied whole several times per request (BENCHMARKS.md,
    /// third pass: 9 % of all instructions were that memcpy). The bound is for the test
    /// build, whose layout is smaller than release's (13,776 bytes there, 38,920 before
    /// the hook's calls and the Redis reservation were boxed): 5,440 bytes here, and
    /// 10,064 with the hook's futures inline again.
    #[tokio::test]
    async fn a_request_future_stays_small() {
        let config = crate::config::Config::demo();
        let shared = Shared::start(&config, Vec::new()).await.expect("shared");
        let snapshot = Snapshot::build(&config, &shared, None).expect("snapshot");
        let gw = Arc::new(Gateway::new(snapshot, shared));
        let request = Request::new(axum::body::Body::empty());
        let future = run(gw, request, &crate::ingress::chat::CHAT, Default::default());
        let size = std::mem::size_of_val(&future);
        assert!(size <= 8 * 1024, "the request's future is {size} bytes");
    }
}
