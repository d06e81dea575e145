use super::*;

const V: u8 = 7;

fn written(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new(V);
    f(&mut w);
    w.finish()
}

#[test]
fn numbers_round_trip_at_their_edges() {
    let unsigned = [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
    let signed = [0, 1, -1, 63, -64, 64, 1_796_097_063, i64::MIN, i64::MAX];
    let out = written(|w| {
        unsigned.iter().for_each(|v| w.varint(*v));
        signed.iter().for_each(|v| w.int(*v));
    });
    let mut r = Reader::new(&out, V).unwrap();
    for v in unsigned {
        assert_eq!(r.varint(), Some(v));
    }
    for v in signed {
        assert_eq!(r.int(), Some(v));
    }
    assert_eq!(r.end(), Some(()));
    assert_eq!(
        written(|w| w.int(1_796_097_063)).len(),
        1 + 5,
        "a timestamp in 5 bytes"
    );
    assert_eq!(written(|w| w.int(-1)).len(), 1 + 1);
}

#[test]
fn a_base64url_token_is_kept_as_the_bytes_it_encodes_and_anything_else_as_it_is() {
    let opaque = "pGOWNrS6gJXgY27Gvglrttn6HL7yKUtAcHmOZ02Aoh0";
    assert_eq!(written(|w| w.token(opaque)).len(), 1 + 1 + 32);
    let texts = [
        opaque,
        // The last character has bits the bytes do not use: kept as text.
        "pGOWNrS6gJXgY27Gvglrttn6HL7yKUtAcHmOZ02Aoh1",
        "user-42",
        "bench",
        "abc=",
        "a+b/c==",
        "with space",
        "Ünïcode ✓",
        "",
        "ab",
        "AAAA",
    ];
    for text in texts {
        let out = written(|w| w.token(text));
        let mut r = Reader::new(&out, V).unwrap();
        assert_eq!(r.token().as_deref(), Some(text), "{text:?}");
        assert_eq!(r.end(), Some(()));
    }
}

#[test]
fn dotted_texts_round_trip_part_by_part() {
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLWJ5dGVz";
    let texts = [
        jwt,
        "",
        ".",
        "a..b",
        "opaque-token",
        "a.b.c.d.e",
        "not base64!.x",
    ];
    for text in texts {
        let out = written(|w| w.dotted(text));
        let mut r = Reader::new(&out, V).unwrap();
        assert_eq!(r.dotted().as_deref(), Some(text), "{text:?}");
        assert_eq!(r.end(), Some(()));
    }
    assert!(written(|w| w.dotted(jwt)).len() < jwt.len() * 9 / 10);
}

#[test]
fn a_truncated_input_reads_as_none_at_every_cut() {
    let out = written(|w| {
        w.varint(300);
        w.int(-5);
        w.bytes(b"payload");
        w.token("pGOWNrS6gJXgY27Gvglrttn6HL7yKUtAcHmOZ02Aoh0");
        w.dotted("eyJhIjoxfQ.eyJiIjoyfQ.c2ln");
    });
    let read_all = |input: &[u8]| -> Option<()> {
        let mut r = Reader::new(input, V)?;
        r.varint()?;
        r.int()?;
        r.bytes()?;
        r.token()?;
        r.dotted()?;
        r.end()
    };
    assert_eq!(read_all(&out), Some(()));
    for cut in 0..out.len() {
        assert_eq!(read_all(&out[..cut]), None, "cut at {cut}");
    }
    let mut longer = out.clone();
    longer.push(0);
    assert_eq!(read_all(&longer), None, "a trailing byte");
}

#[test]
fn lengths_and_counts_beyond_the_input_read_as_none() {
    let cases: [&[u8]; 6] = [
        // A byte string of 2^63 bytes.
        &[
            V, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        ],
        // A varint of eleven bytes.
        &[
            V, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
        // A varint whose tenth byte overflows 64 bits.
        &[
            V, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ],
        // A token of 100 bytes, 3 there.
        &[V, 200, b'a', b'b', b'c'],
        // A JWT of a million parts.
        &[V, 0xc0, 0x84, 0x3d, 0, 0],
        // A JWT of no parts.
        &[V, 0],
    ];
    for (i, input) in cases.into_iter().enumerate() {
        if i < 4 {
            assert_eq!(Reader::new(input, V).unwrap().bytes(), None, "{input:?}");
        }
        assert_eq!(Reader::new(input, V).unwrap().dotted(), None, "{input:?}");
    }
}

#[test]
fn another_version_or_text_that_is_not_utf8_reads_as_none() {
    let out = written(|w| w.token("text"));
    assert!(Reader::new(&out, V + 1).is_none());
    assert!(Reader::new(&[], V).is_none());
    let not_utf8 = [V, 2 << 1, 0xc3, 0x28];
    assert_eq!(Reader::new(&not_utf8, V).unwrap().token(), None);
}
