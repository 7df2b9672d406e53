//! AWS wire protocols: awsQuery and ec2Query request decoding, XML response encoding.
