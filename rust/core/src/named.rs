//! Enums named by strings at the boundary (`"leaky_relu"`, `"coactivity"`).
//!
//! [`named_enum!`] gives each such enum one list of names, used for
//! [`std::str::FromStr`] (errors through [`crate::Error`], naming the
//! parameter and the allowed values), for [`std::fmt::Display`] and for serde,
//! so a configuration read from Python and a saved state spell the variants
//! the same way.

/// Declare a unit-only enum whose variants are spelled by strings:
///
/// ```ignore
/// named_enum! {
///     /// Where new synapses grow.
///     pub enum Growth("growth") { Random = "random", Coactivity = "coactivity" }
/// }
/// ```
///
/// A variant may list aliases accepted by `from_str` after its name
/// (`Sigmoid = "sigmoid" | "logistic"`); the first name is canonical.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident($param:literal) {
            $( $(#[$vmeta:meta])* $var:ident = $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $var ),+
        }

        impl $name {
            /// The canonical names of all variants.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The canonical name of this variant.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$var => $text ),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;
            fn from_str(s: &str) -> $crate::Result<Self> {
                match s {
                    $( $text $(| $alias)* => Ok(Self::$var), )+
                    _ => Err($crate::Error::Value(format!(
                        "{} must be one of {}, got {s:?}",
                        $param,
                        Self::NAMES
                            .iter()
                            .map(|n| format!("'{n}'"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ))),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(|e: $crate::Error| {
                    <D::Error as ::serde::de::Error>::custom(e.message())
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::named_enum! {
        /// A test enum.
        enum Colour("colour") { Red = "red", Green = "green" | "vert" }
    }

    #[test]
    fn names_round_trip_and_errors_name_the_parameter() {
        assert_eq!("red".parse::<Colour>(), Ok(Colour::Red));
        assert_eq!("vert".parse::<Colour>(), Ok(Colour::Green));
        assert_eq!(Colour::Green.to_string(), "green");
        let e = "blue".parse::<Colour>().unwrap_err().to_string();
        assert!(e.contains("colour must be one of 'red', 'green'"), "{e}");
        let bytes = postcard::to_allocvec(&Colour::Green).unwrap();
        assert_eq!(postcard::from_bytes::<Colour>(&bytes), Ok(Colour::Green));
    }
}
