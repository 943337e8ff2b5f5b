//! Closed sets of values stored as text: `text_enum!` declares the enum with
//! its stored names once, and gives it `as_str`, `parse`, `ALL`, `Display`,
//! serde as the stored name, and the conversions storage rows use
//! (`TryFrom<String>` for `#[diesel(deserialize_as = String)]`,
//! `From<…> for String` for `serialize_as`). A status is compared as an
//! enum everywhere; its text exists only here.

/// A stored name that is not one of the enum's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: {value:?}")]
pub struct UnknownValue {
    /// The enum.
    pub what: &'static str,
    /// The text read.
    pub value: String,
}

/// Declares a closed set of values stored as text (see the module docs).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text ),+
                }
            }

            /// The value of a stored name.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw {
                    $( $text => Some(Self::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::text_enum::UnknownValue;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value).ok_or($crate::domain::text_enum::UnknownValue {
                    what: stringify!($name),
                    value,
                })
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.as_str().to_owned()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {}: {raw:?}", stringify!($name)))
                })
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    text_enum! {
        /// A test set.
        pub enum Colour {
            /// Red.
            Red = "red",
            /// Dark blue.
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn stored_names_round_trip_and_strangers_are_refused() {
        for c in Colour::ALL {
            assert_eq!(Colour::try_from(String::from(*c)), Ok(*c));
        }
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        let err = Colour::try_from("green".to_owned()).expect_err("unknown");
        assert_eq!(err.what, "Colour");
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).expect("json"),
            "\"dark_blue\""
        );
        assert!(serde_json::from_str::<Colour>("\"RED\"").is_err());
    }
}
