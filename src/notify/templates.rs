//! Email templates: one folder per event under `templates/email/<event>/`
//! with `subject.txt`, `body.txt` and `body.html` (askama, checked at compile
//! time). Texts are Vietnamese.

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// One-line subject.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// An email event with its data.
pub trait EmailTemplate {
    /// The event name (its folder under `templates/email/`).
    const NAME: &'static str;
    /// Whether the body carries a secret (a sign-in or reset link); such
    /// bodies are erased from the database once delivered.
    const SENSITIVE: bool;
    /// Renders subject and both bodies.
    fn render(&self) -> askama::Result<RenderedEmail>;
}

/// Declares the three askama templates of an email event for a data type
/// whose fields the templates read as `e.<field>`.
macro_rules! email_template {
    ($ty:ty, name = $name:literal, sensitive = $sensitive:literal,
     subject = $subject:literal, text = $text:literal, html = $html:literal) => {
        const _: () = {
            #[derive(askama::Template)]
            #[template(path = $subject)]
            #[allow(dead_code)]
            struct Subject<'a> {
                e: &'a $ty,
            }
            #[derive(askama::Template)]
            #[template(path = $text)]
            struct Text<'a> {
                e: &'a $ty,
            }
            #[derive(askama::Template)]
            #[template(path = $html)]
            struct Html<'a> {
                e: &'a $ty,
            }
            impl $crate::notify::templates::EmailTemplate for $ty {
                const NAME: &'static str = $name;
                const SENSITIVE: bool = $sensitive;
                fn render(&self) -> askama::Result<$crate::notify::templates::RenderedEmail> {
                    use askama::Template as _;
                    let subject = Subject { e: self }.render()?;
                    Ok($crate::notify::templates::RenderedEmail {
                        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
                        text: Text { e: self }.render()?,
                        html: Html { e: self }.render()?,
                    })
                }
            }
        };
    };
}
pub(crate) use email_template;

/// The message `eservices admin mail test` sends to check the mail set-up.
#[derive(Debug, Clone)]
pub struct SmtpTestEmail {
    /// Who asked for it (operator name or host), shown in the body.
    pub requested_by: String,
    /// The public URL of this deployment.
    pub public_url: String,
}

email_template!(
    SmtpTestEmail,
    name = "smtp_test",
    sensitive = false,
    subject = "email/smtp_test/subject.txt",
    text = "email/smtp_test/body.txt",
    html = "email/smtp_test/body.html"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_email_renders_in_vietnamese_and_escapes_html() {
        let e = SmtpTestEmail {
            requested_by: "<b>ops</b>".into(),
            public_url: "https://dichvucong.example".into(),
        };
        let r = e.render().expect("renders");
        assert_eq!(r.subject, "Thư kiểm tra cấu hình gửi email");
        assert!(r.text.contains("<b>ops</b>"), "text is not escaped");
        assert!(r.html.contains("&#60;b&#62;ops&#60;/b&#62;") || r.html.contains("&lt;b&gt;"));
        assert!(r.html.contains("https://dichvucong.example"));
        const { assert!(!SmtpTestEmail::SENSITIVE) };
    }
}
