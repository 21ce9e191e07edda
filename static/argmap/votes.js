// votes: behaviour for this area of the app (progressive enhancement over htmx).
