//! Unit tests of the address guard, the `url` parameter and sheet decoding.

use super::guard::host_of_origin;
use super::*;

#[test]
fn public_and_private_addresses() {
    for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
        assert!(is_public(ip.parse().expect("ip")), "{ip}");
    }
    for ip in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a00:1",
    ] {
        assert!(!is_public(ip.parse().expect("ip")), "{ip}");
    }
}

#[test]
fn hosts_of_origins() {
    assert_eq!(
        host_of_origin("http://127.0.0.1:8080").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        host_of_origin("https://Intranet.Corp").as_deref(),
        Some("intranet.corp")
    );
    assert_eq!(host_of_origin("http://[::1]:9").as_deref(), Some("::1"));
}

#[test]
fn url_parameter_is_decoded() {
    let enc = query_encode("https://a.example/x y.css?v=1&z");
    assert_eq!(
        url_param(&format!("a=1&url={enc}")).as_deref(),
        Some("https://a.example/x y.css?v=1&z")
    );
    assert_eq!(url_param("a=1"), None);
    assert_eq!(url_param(""), None);
}

#[test]
fn sheets_are_decoded_by_bom_header_and_charset_rule() {
    let latin1 = b"p::before { content: \"caf\xe9\" }";
    assert!(decode(latin1, Some("text/css; charset=ISO-8859-1")).contains("café"));
    assert!(decode(latin1, Some("text/css")).contains("caf\u{fffd}"));
    let rule = b"@charset \"windows-1252\"; p::before { content: \"\x80\" }";
    assert!(decode(rule, None).contains('€'));
    // The header wins over the rule, a BOM over both.
    assert!(decode(rule, Some("text/css;charset=utf-8")).contains('\u{fffd}'));
    let bom = b"\xef\xbb\xbfp::before { content: \"\xc3\xa9\" }";
    assert_eq!(
        decode(bom, Some("text/css; charset=iso-8859-1")),
        "p::before { content: \"é\" }"
    );
    let sjis = b"p { font-family: \"\x82\x6c\x82\x72 \x83\x53\x83\x56\x83\x62\x83\x4e\" }";
    assert!(decode(sjis, Some("text/css; charset=Shift_JIS")).contains("ＭＳ ゴシック"));
}

#[test]
fn query_values_are_encoded() {
    assert_eq!(
        query_encode("https://a.example/x y.css?v=1&z"),
        "https%3A%2F%2Fa.example%2Fx%20y.css%3Fv%3D1%26z"
    );
}
