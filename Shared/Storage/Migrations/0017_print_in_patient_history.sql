-- An entry shown in a patient's medical history may also be printed with it (OpenVPMS's "print" flag next to
-- "show"): filing metadata staff set on any entry, emails and closed calls included.
ALTER TABLE communications ADD COLUMN print_in_patient_history boolean NOT NULL DEFAULT false;
