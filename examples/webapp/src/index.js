const pad = (s, n) => String(s).padStart(n);
console.log(pad("hello", 10));
