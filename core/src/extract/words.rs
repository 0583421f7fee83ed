//! The phrases rules look for, in every marketplace's language (lowercase).
//!
//! Lists are matched as substrings of lowercased, whitespace-folded text from a small part of
//! the page (the buy box, a status line), never of the whole page, so a review that says
//! "currently unavailable" cannot flip a product out of stock.

/// Robot-check / CAPTCHA pages.
pub(crate) const ROBOT_CHECK: &[&str] = &[
    "enter the characters you see below",
    "type the characters you see in this image",
    "make sure you're not a robot",
    "make sure you’re not a robot",
    "to discuss automated access to amazon data",
    "api-services-support@amazon.com",
    "click the button below to continue shopping",
    "geben sie die zeichen unten ein",
    "geben sie die angezeigten zeichen",
    "saisissez les caractères",
    "inserisci i caratteri",
    "introduce los caracteres",
    "introduzca los caracteres",
    "digite os caracteres",
    "voer de tekens in",
    "ange tecknen",
    "wpisz znaki",
    "karakterleri girin",
    "表示されている文字を入力してください",
    "画像に表示されている文字",
    "أدخل الأحرف",
];

/// "This offer cannot be bought now".
pub(crate) const OUT_OF_STOCK: &[&str] = &[
    "currently unavailable",
    "out of stock",
    "temporarily unavailable",
    "not available",
    "unavailable",
    "nicht verfügbar",
    "derzeit nicht",
    "nicht auf lager",
    "sin stock",
    "sem estoque",
    "indisponible",
    "rupture de stock",
    "non disponibile",
    "non è disponibile",
    "no disponible",
    "no está disponible",
    "agotado",
    "niet beschikbaar",
    "niet leverbaar",
    "niet op voorraad",
    "inte tillgänglig",
    "ej tillgänglig",
    "tillfälligt slut",
    "inte i lager",
    "niedostępny",
    "brak w magazynie",
    "mevcut değil",
    "stokta yok",
    "在庫切れ",
    "取り扱いできません",
    "現在お取り扱い",
    "indisponível",
    "não disponível",
    "esgotado",
    "غير متوفر",
    "غير متاح",
    "نفدت الكمية",
    "अनुपलब्ध",
];

/// "You can buy this now".
pub(crate) const IN_STOCK: &[&str] = &[
    "in stock",
    "left in stock",
    "available from these sellers",
    "available instantly",
    "available now",
    "available to ship",
    "usually ships",
    "usually dispatched",
    "ships within",
    "dispatched within",
    "auf lager",
    "vorrätig",
    "versandfertig",
    "en stock",
    "expédié sous",
    "disponibilità immediata",
    "disponibile",
    "disponible",
    "op voorraad",
    "i lager",
    "w magazynie",
    "dostępny",
    "stokta",
    "stokta var",
    "在庫あり",
    "残り",
    "em estoque",
    "disponível",
    "متوفر",
    "متاح",
    "उपलब्ध",
];

/// A deal badge or deal label near the price.
pub(crate) const DEAL: &[&str] = &[
    "limited time deal",
    "lightning deal",
    "deal of the day",
    "prime day deal",
    "black friday deal",
    "deal price",
    "blitzangebot",
    "angebot des tages",
    "zeitlich begrenztes angebot",
    "offre à durée limitée",
    "vente flash",
    "offre du jour",
    "offerta a tempo limitato",
    "offerta lampo",
    "offerta del giorno",
    "oferta por tiempo limitado",
    "oferta flash",
    "oferta relámpago",
    "oferta do dia",
    "oferta relâmpago",
    "oferta por tempo limitado",
    "aanbieding voor beperkte tijd",
    "tidsbegränsat erbjudande",
    "oferta ograniczona czasowo",
    "sınırlı süreli fırsat",
    "タイムセール",
    "特選タイムセール",
    "عرض لفترة محدودة",
];

/// "See price in cart" (minimum-advertised-price items).
pub(crate) const PRICE_IN_CART: &[&str] = &[
    "see price in cart",
    "see price in basket",
    "add this item to your cart to see",
    "add this item to your basket to see",
    "to see our price, add",
    "preis im einkaufswagen",
    "preis wird im einkaufswagen",
    "voir le prix dans le panier",
    "prix dans le panier",
    "vedi il prezzo nel carrello",
    "ver precio en el carrito",
    "ver preço no carrinho",
    "カートに入れて価格を確認",
];

/// "Sold by" in each language, followed by the seller's name.
pub(crate) const SOLD_BY: &[&str] = &[
    "ships from and sold by",
    "sold by",
    "verkauf und versand durch",
    "versand und verkauf durch",
    "verkauf durch",
    "verkauft von",
    "vendu par",
    "venduto da",
    "vendido y enviado por",
    "enviado y vendido por",
    "vendido e enviado por",
    "vendido por",
    "verkocht door",
    "säljs av",
    "sprzedawca",
    "sprzedawany przez",
    "satıcı",
    "販売元",
    "البائع",
    "يباع من",
];

/// Row labels that name the seller in a label/value buy box, besides the "sold by" phrases.
pub(crate) const SELLER_LABELS: &[&str] = &[
    "seller",
    "verkäufer",
    "vendeur",
    "venditore",
    "vendedor",
    "verkoper",
    "säljare",
];

/// Phrases that end the seller's name in a "sold by X and fulfilled by Amazon" sentence.
pub(crate) const NAME_ENDS: &[&str] = &[
    " and ", " und ", " et ", " e ", " y ", " en ", " och ", " i ", " ve ", " و", ";", "|", "·",
];

pub(crate) const SUBSCRIBE_AND_SAVE: &[&str] = &[
    "subscribe & save",
    "subscribe and save",
    "spar-abo",
    "prévoyez et économisez",
    "abonnez-vous et économisez",
    "iscriviti e risparmia",
    "suscríbete y ahorra",
    "programe e poupe",
    "abonneer en bespaar",
    "prenumerera och spara",
    "subskrybuj i oszczędzaj",
    "定期おトク便",
];

pub(crate) const COUPON: &[&str] = &[
    "coupon",
    "gutschein",
    "cupón",
    "cupom",
    "クーポン",
    "kupon",
    "kupong",
    "kortingsbon",
    "كوبون",
];

pub(crate) const PRIME_EXCLUSIVE: &[&str] = &[
    "prime exclusive",
    "prime-exclusive",
    "prime member price",
    "prime-mitgliederpreis",
    "prime-exklusiv",
    "exclusivité prime",
    "esclusiva prime",
    "exclusivo prime",
    "exclusivo para miembros prime",
    "prime会員価格",
    "prime会員限定",
];

pub(crate) const BUSINESS: &[&str] = &[
    "business price",
    "business-preis",
    "prix business",
    "prix professionnel",
    "prezzo business",
    "precio business",
    "preço business",
    "zakelijke prijs",
    "法人価格",
];

pub(crate) const QUANTITY_TIER: &[&str] = &[
    "quantity discount",
    "quantity price",
    "mengenrabatt",
    "staffelpreis",
    "remise sur quantité",
    "remises sur quantité",
    "sconto quantità",
    "sconti quantità",
    "descuento por cantidad",
    "descuentos por cantidad",
    "desconto por quantidade",
    "数量割引",
    "まとめ買い",
];

pub(crate) const PERSONALIZED: &[&str] = &[
    "your price",
    "your prime price",
    "price for you",
    "ihr preis",
    "votre prix",
    "il tuo prezzo",
    "tu precio",
    "seu preço",
    "uw prijs",
    "ditt pris",
    "twoja cena",
    "あなたの価格",
];

/// "The price shown is the members' price; others pay more."
pub(crate) const NON_MEMBER_PRICE: &[&str] = &[
    "non-member price",
    "non-members price",
    "price for non-members",
    "preis für nicht-mitglieder",
    "nicht-mitglieder-preis",
    "prix non-membre",
    "prix pour les non-membres",
    "prezzo per i non iscritti",
    "prezzo non iscritti",
    "precio para no miembros",
    "preço para não membros",
    "会員以外の価格",
];

/// Whether `haystack` (already lowercased) contains any of `needles`.
pub(crate) fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| haystack.contains(n))
}
