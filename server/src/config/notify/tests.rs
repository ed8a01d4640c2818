//! The `[[notify]]` tables: every bad value names its key.

use super::*;

fn parse(toml_text: &str) -> Result<Vec<Arc<Channel>>, Bad> {
    #[derive(serde::Deserialize)]
    struct Tables {
        notify: Vec<toml::Table>,
    }
    let tables: Tables = toml::from_str(toml_text).map_err(|e| (String::from("toml"), e.to_string()))?;
    channels(&tables.notify)
}

fn key_of(toml_text: &str) -> String {
    match parse(toml_text) {
        Ok(_) => "accepted".into(),
        Err((key, _)) => key,
    }
}

#[test]
fn every_kind_is_read() {
    let c = parse(
        "[[notify]]\nname = \"a\"\nwebhook = \"https://h.example/x?token=SECRET\"\nheaders = { Authorization = \"Bearer SECRET\" }\nrepeat = \"4h\"\nquiet = \"22:00-07:00\"\nfallback = \"m\"\n\
         [[notify]]\nname = \"s\"\nslack = \"https://hooks.slack.com/services/SECRET\"\n\
         [[notify]]\nname = \"d\"\ndiscord = \"https://discord.com/api/webhooks/1/SECRET\"\n\
         [[notify]]\nname = \"mm\"\nmattermost = \"https://mm.example/hooks/SECRET\"\n\
         [[notify]]\nname = \"n\"\nntfy = \"https://ntfy.sh/topic\"\ntoken = \"tk_SECRET\"\n\
         [[notify]]\nname = \"m\"\nsmtp = \"smtps://bob@mail.example.org\"\npassword = \"SECRET\"\nfrom = \"l@example.org\"\nto = [\"ops@example.org\"]\n",
    )
    .expect("valid");
    let kinds: Vec<&str> = c.iter().map(|c| c.target.kind()).collect();
    assert_eq!(kinds, ["webhook", "slack", "discord", "mattermost", "ntfy", "email"]);
    assert_eq!(c[0].repeat, Some(Duration::from_secs(4 * 3600)));
    assert_eq!((c[0].fallback.as_deref(), c[0].fallback_after), (Some("m"), 3));
    for channel in &c {
        let shown = format!("{:?} {:?}", channel, channel.state());
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}

#[test]
fn secrets_come_from_the_environment_or_a_file() {
    let dir = std::env::temp_dir().join(format!("livedash-notify-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("hook");
    std::fs::write(&path, "https://h.example/from-file\n").expect("write");
    let c = parse(&format!("[[notify]]\nname = \"a\"\nwebhook = {{ file = {:?} }}\n", path.display())).expect("valid");
    assert!(matches!(&c[0].target, Target::Webhook { url, .. } if url == "https://h.example/from-file"));
    let missing = parse("[[notify]]\nname = \"a\"\nwebhook = { env = \"LIVEDASH_TEST_NO_SUCH_VARIABLE\" }\n");
    assert!(missing.is_err_and(|(k, m)| k == "notify[0].webhook" && m.contains("LIVEDASH_TEST_NO_SUCH_VARIABLE")));
    let missing =
        parse("[[notify]]\nname = \"a\"\nntfy = \"https://n.example/t\"\ntoken = { file = \"/nonexistent/x\" }\n");
    assert!(missing.is_err_and(|(k, _)| k == "notify[0].token"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_value_names_its_key() {
    let hook = "[[notify]]\nname = \"a\"\nwebhook = \"https://h.example/x\"\n";
    for (text, key) in [
        ("[[notify]]\nwebhook = \"https://h.example/x\"\n".to_owned(), "notify[0].name"),
        ("[[notify]]\nname = \"a\"\n".to_owned(), "notify[0].webhook"),
        (format!("{hook}slack = \"https://s.example/x\"\n"), "notify[0].slack"),
        ("[[notify]]\nname = \"a\"\nwebhook = \"ftp://h.example/x\"\n".to_owned(), "notify[0].webhook"),
        (format!("{hook}template = \"{{{{ alert.nope }}}}\"\n"), "notify[0].template"),
        (format!("{hook}template = \"{{% if %}}\"\n"), "notify[0].template"),
        (format!("{hook}fallback = \"a\"\n"), "notify[0].fallback"),
        (format!("{hook}fallback = \"b\"\n"), "notify[0].fallback"),
        (format!("{hook}repeat = \"soon\"\n"), "notify[0].repeat"),
        (format!("{hook}quiet = \"22:00\"\n"), "notify[0].quiet"),
        (format!("{hook}fallback_after = 0\n"), "notify[0].fallback_after"),
        (format!("{hook}token = \"x\"\n"), "notify[0].token"),
        (format!("{hook}headers = {{ \"bad header\" = \"x\" }}\n"), "notify[0].headers.bad header"),
        (format!("{hook}ca_file = \"/nonexistent/ca.pem\"\n"), "notify[0].ca_file"),
        (format!("{hook}{}", hook), "notify[1].name"),
        ("[[notify]]\nname = \"m\"\nsmtp = \"smtp://mail.example.org:587\"\nfrom = \"a@b.example\"\nto = [\"c@d.example\"]\n".to_owned(), "notify[0].smtp"),
        ("[[notify]]\nname = \"m\"\nsmtp = \"smtps://mail.example.org\"\nto = [\"c@d.example\"]\n".to_owned(), "notify[0].from"),
        ("[[notify]]\nname = \"n\"\nntfy = \"https://ntfy.sh/\"\n".to_owned(), "notify[0].ntfy"),
        (
            "[[notify]]\nname = \"a\"\nwebhook = \"https://h/x\"\nfallback = \"b\"\n[[notify]]\nname = \"b\"\nwebhook = \"https://h/y\"\nfallback = \"a\"\n".to_owned(),
            "notify[0].fallback",
        ),
    ] {
        assert_eq!(key_of(&text), key, "{text}");
    }
    assert!(
        parse(&format!("{hook}color = \"red\"\n")).is_err_and(|(k, m)| k == "notify[0].color" && m.contains("unknown"))
    );
    assert_eq!(key_of(&format!("{hook}fallback_after = \"3\"\n")), "notify[0].fallback_after");
    assert_eq!(key_of(&format!("{hook}to = \"a@b.example\"\n")), "notify[0].to");
}
