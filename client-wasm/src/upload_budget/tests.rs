//! The budget driven by a clock the tests move by hand.

use super::*;
use cobrowse_protocol::tags::{
    CLICK, FORM, MUTATIONS, NAVIGATION, POINTER, SCROLL, SNAPSHOT, VIEWPORT,
};

const KIB: u32 = 1024;

fn budget(burst: u32, per_second: u32) -> UploadBudget {
    let c = config::UploadBudget {
        burst_bytes: burst,
        bytes_per_second: per_second,
        unlimited: false,
    };
    UploadBudget::new(&c, 0.0)
}

#[test]
fn defaults_are_a_mebibyte_burst_refilled_at_25_kib_a_second() {
    let c = config::UploadBudget::default();
    assert_eq!((c.burst_bytes, c.bytes_per_second), (1024 * KIB, 25 * KIB));
    assert!(!c.unlimited);
}

#[test]
fn the_bucket_refills_at_its_rate_up_to_the_burst() {
    let mut b = TokenBucket::new(1000, 100, 0.0);
    assert!(b.try_take(1000, 0.0));
    assert!(!b.try_take(1, 0.0));
    assert_eq!(b.tokens(500.0), 50.0);
    assert!(b.try_take(50, 500.0));
    assert_eq!(b.tokens(60_000.0), 1000.0, "never above the burst");
    // A clock that went back refills nothing.
    assert_eq!(b.tokens(1.0), 1000.0);
}

#[test]
fn the_wait_for_a_charge_is_capped_at_a_full_bucket() {
    let mut b = TokenBucket::new(1000, 100, 0.0);
    b.take(1500, 0.0);
    assert_eq!(b.tokens(0.0), -500.0);
    assert_eq!(b.wait_ms(200, 0.0), 7000.0);
    assert_eq!(
        b.wait_ms(5000, 0.0),
        15_000.0,
        "waits for a full bucket, not for 5000"
    );
    assert_eq!(b.wait_ms(200, 7000.0), 0.0);
}

#[test]
fn deltas_flow_until_the_bucket_is_spent_then_are_held() {
    let mut b = budget(1000, 100);
    assert_eq!(b.admit(SNAPSHOT, 300, 0.0), Admit::Send);
    assert_eq!(b.admit(MUTATIONS, 600, 0.0), Admit::Send);
    assert_eq!(b.admit(MUTATIONS, 200, 0.0), Admit::Hold);
    assert!(b.holds(MUTATIONS) && b.holds(FORM));
    // Held even when a small one would fit: the agent must not see later changes without the
    // earlier ones.
    assert_eq!(b.admit(FORM, 10, 0.0), Admit::Drop);
    assert_eq!(b.admit(MUTATIONS, 1, 10_000.0), Admit::Drop);
}

#[test]
fn pointer_scroll_viewport_and_control_frames_are_never_held_nor_charged() {
    let mut b = budget(100, 10);
    assert_eq!(b.admit(MUTATIONS, 200, 0.0), Admit::Hold);
    for tag in [
        POINTER,
        CLICK,
        SCROLL,
        VIEWPORT,
        NAVIGATION,
        tags::PING,
        tags::MODE,
    ] {
        assert!(!b.holds(tag));
        assert_eq!(b.admit(tag, 1_000_000, 0.0), Admit::Send, "tag {tag}");
    }
    assert!(!counted(SCROLL) && counted(SNAPSHOT) && counted(tags::CANVAS));
}

#[test]
fn the_resync_is_due_when_a_snapshot_as_large_as_the_last_fits() {
    let mut b = budget(1000, 100);
    assert_eq!(b.resync_in_ms(0.0), None, "not holding");
    b.admit(SNAPSHOT, 400, 0.0);
    b.admit(MUTATIONS, 600, 0.0);
    assert_eq!(b.admit(MUTATIONS, 50, 0.0), Admit::Hold);
    assert_eq!(b.resync_in_ms(0.0), Some(4000.0));
    assert_eq!(b.resync_in_ms(3000.0), Some(1000.0));
    assert_eq!(b.resync_in_ms(4000.0), Some(0.0));
    // The resync snapshot ends holding and is paid for.
    assert_eq!(b.admit(SNAPSHOT, 450, 4000.0), Admit::Send);
    assert!(!b.holding());
    assert_eq!(
        b.admit(MUTATIONS, 10, 4000.0),
        Admit::Hold,
        "in debt by 50 bytes"
    );
    assert_eq!(
        b.resync_in_ms(4000.0),
        Some(5000.0),
        "the debt, then 450 bytes"
    );
}

#[test]
fn a_new_links_snapshot_is_not_paid_for_however_large() {
    let mut b = budget(1000, 100);
    b.link_snapshot();
    assert_eq!(b.admit(SNAPSHOT, 3000, 0.0), Admit::Send);
    assert_eq!(
        b.admit(MUTATIONS, 900, 0.0),
        Admit::Send,
        "the first changes of a large page flow at once"
    );
    // Only that one snapshot was free.
    assert_eq!(b.admit(MUTATIONS, 200, 0.0), Admit::Hold);
    assert_eq!(b.resync_in_ms(0.0), Some(9_000.0), "a full bucket");
    assert_eq!(b.admit(SNAPSHOT, 3000, 9_000.0), Admit::Send);
    assert_eq!(
        b.admit(MUTATIONS, 10, 9_000.0),
        Admit::Hold,
        "the resync overdrew"
    );
}

#[test]
fn a_snapshot_larger_than_the_burst_waits_for_a_full_bucket_and_overdraws() {
    let mut b = budget(1000, 100);
    assert_eq!(b.admit(SNAPSHOT, 3000, 0.0), Admit::Send);
    assert_eq!(b.admit(MUTATIONS, 10, 0.0), Admit::Hold);
    assert_eq!(b.resync_in_ms(0.0), Some(30_000.0));
}

#[test]
fn a_requested_snapshot_goes_at_once_only_when_the_bucket_can_pay() {
    let mut b = budget(1000, 100);
    b.admit(SNAPSHOT, 300, 0.0);
    assert!(b.snapshot_requested(0.0));
    b.admit(SNAPSHOT, 300, 0.0);
    b.admit(MUTATIONS, 300, 0.0);
    assert!(!b.snapshot_requested(0.0), "100 bytes left");
    assert!(b.holding(), "the resync answers the request");
    assert_eq!(b.resync_in_ms(0.0), Some(2000.0));
    // Holding already: the resync answers, not a second snapshot.
    assert!(!b.snapshot_requested(5000.0));
}

#[test]
fn unlimited_sends_everything() {
    let c = config::UploadBudget {
        unlimited: true,
        ..config::UploadBudget::default()
    };
    let mut b = UploadBudget::new(&c, 0.0);
    for _ in 0..100 {
        assert_eq!(b.admit(MUTATIONS, 1 << 20, 0.0), Admit::Send);
    }
    assert!(b.snapshot_requested(0.0));
    assert_eq!(b.resync_in_ms(0.0), None);
}

/// A storm of random deltas and requests over a minute, with a resync whenever it is due: what
/// was sent never exceeds the burst plus the refill plus the last snapshot's overdraw, and the
/// budget never holds longer than the resync rule says.
#[test]
fn a_storm_stays_within_burst_plus_rate_plus_one_snapshot() {
    let (burst, rate) = (64 * KIB, 4 * KIB);
    let mut b = budget(burst, rate);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut snapshot = 20_000usize;
    assert_eq!(b.admit(SNAPSHOT, snapshot, 0.0), Admit::Send);
    let mut sent = 0.0;
    let mut now = 0.0;
    let mut resyncs = 0;
    while now < 60_000.0 {
        now += rand(20) as f64;
        if let Some(0.0) = b.resync_in_ms(now) {
            // The page grows during the storm: each resync costs more than the last.
            snapshot += rand(2000) as usize;
            assert_eq!(b.admit(SNAPSHOT, snapshot, now), Admit::Send);
            sent += snapshot as f64;
            resyncs += 1;
        }
        let size = 1 + rand(8000) as usize;
        if b.admit(MUTATIONS, size, now) == Admit::Send {
            sent += size as f64;
        }
        if rand(500) == 0 && b.snapshot_requested(now) {
            assert_eq!(b.admit(SNAPSHOT, snapshot, now), Admit::Send);
            sent += snapshot as f64;
        }
        let bound = f64::from(burst) + f64::from(rate) * now / 1000.0 + snapshot as f64;
        assert!(
            sent <= bound,
            "{sent} bytes sent by {now} ms, bound {bound}"
        );
    }
    assert!(resyncs >= 5, "{resyncs} resyncs in a minute of storm");
}
