-- The look-up benchmark's directory (psql -v org=... -v clients=...): clients named from 60 first names and
-- 100 surnames, one pet each, a connection for every fourth client, 200 staff; emails and mobile numbers in
-- contact_points as reminder-logger's directory writer keeps them.
CREATE TABLE IF NOT EXISTS commlog_bench_names (firsts text[] NOT NULL, surnames text[] NOT NULL, pets text[] NOT NULL);
TRUNCATE commlog_bench_names;
INSERT INTO commlog_bench_names VALUES (
    ARRAY['Olivia','Amelia','Isla','Ava','Mia','Ivy','Lily','Isabella','Rosie','Sophia','Grace','Freya','Willow','Florence',
          'Emily','Ella','Poppy','Evie','Elsie','Charlotte','Evelyn','Sienna','Sofia','Daisy','Phoebe','Alice','Harper','Matilda',
          'Ruby','Emilia','Noah','Muhammad','George','Oliver','Leo','Arthur','Oscar','Theodore','Freddie','Theo','Archie','Henry',
          'Alfie','Charlie','Finley','Jack','Jacob','Lucas','Thomas','Isaac','Edward','Teddy','Samuel','Hugo','Joshua','Tommy',
          'Max','William','James','Harry'],
    ARRAY['Smith','Jones','Williams','Taylor','Brown','Davies','Evans','Wilson','Thomas','Johnson','Roberts','Robinson','Thompson',
          'Wright','Walker','White','Edwards','Hughes','Green','Hall','Lewis','Harris','Clarke','Patel','Jackson','Wood','Turner',
          'Martin','Cooper','Hill','Ward','Morris','Moore','Clark','Lee','King','Baker','Harrison','Morgan','Allen','James','Scott',
          'Phillips','Watson','Davis','Parker','Price','Bennett','Young','Griffiths','Mitchell','Kelly','Cook','Carter','Richardson',
          'Bailey','Collins','Bell','Shaw','Murphy','Miller','Cox','Richards','Khan','Marshall','Anderson','Simpson','Ellis','Adams',
          'Singh','Begum','Wilkinson','Foster','Chapman','Powell','Webb','Rogers','Gray','Mason','Ali','Hunt','Hussain','Campbell',
          'Matthews','Owen','Palmer','Holmes','Mills','Barnes','Knight','Lloyd','Butler','Russell','Barker','Fisher','Stevens',
          'Jenkins','Murray','Dixon','Harvey'],
    ARRAY['Bella','Luna','Max','Poppy','Milo','Daisy','Teddy','Coco','Bailey','Ruby','Alfie','Rosie','Buster','Molly','Charlie',
          'Lola','Oscar','Bonnie','Archie','Tilly','Bear','Nala','Ollie','Maisie','Simba','Willow','Toby','Ziggy','Pepper','Biscuit',
          'Hugo','Pickle','Loki','Mabel','Rolo','Winnie','Frank','Otis','Dotty','Percy']);

INSERT INTO organisations (id, name) VALUES (:'org', 'Benchmark practice') ON CONFLICT DO NOTHING;
INSERT INTO staff (organisation_id, id, name, email, extension)
SELECT :'org', 's-' || i, n.firsts[1 + i % 60] || ' ' || n.surnames[1 + (i * 7) % 100], 'staff' || i || '@practice.example', (200 + i)::text
FROM generate_series(0, 199) AS i, commlog_bench_names n ON CONFLICT DO NOTHING;
INSERT INTO clients (organisation_id, id, name, emails, phones)
SELECT :'org', 'c-' || i, n.firsts[1 + i % 60] || ' ' || n.surnames[1 + (i / 60) % 100],
       ARRAY[lower(n.firsts[1 + i % 60] || '.' || n.surnames[1 + (i / 60) % 100]) || i || '@example.org'],
       ARRAY['+4477009' || lpad(i::text, 5, '0')]
FROM generate_series(0, :clients - 1) AS i, commlog_bench_names n ON CONFLICT DO NOTHING;
INSERT INTO patients (organisation_id, id, client_id, name)
SELECT :'org', 'p-' || i, 'c-' || i, n.pets[1 + (i * 13) % 40] FROM generate_series(0, :clients - 1) AS i, commlog_bench_names n
ON CONFLICT DO NOTHING;
INSERT INTO connections (organisation_id, id, client_id, name, relationship)
SELECT :'org', 'k-' || i, 'c-' || i, n.firsts[1 + (i * 11) % 60] || ' ' || n.surnames[1 + (i / 60) % 100], 'spouse'
FROM generate_series(0, :clients - 1, 4) AS i, commlog_bench_names n ON CONFLICT DO NOTHING;
INSERT INTO contact_points (organisation_id, kind, value, owner_kind, owner_id)
SELECT organisation_id, 'email', emails[1], 'client', id FROM clients WHERE organisation_id = :'org'
UNION ALL SELECT organisation_id, 'phone', phones[1], 'client', id FROM clients WHERE organisation_id = :'org'
UNION ALL SELECT organisation_id, 'email', email, 'staff', id FROM staff WHERE organisation_id = :'org'
UNION ALL SELECT organisation_id, 'extension', extension, 'staff', id FROM staff WHERE organisation_id = :'org'
ON CONFLICT DO NOTHING;
