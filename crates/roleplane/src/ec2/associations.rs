//! Instance-profile associations: Associate, Replace, Disassociate, Describe.
//!
//! Writes answer with the transitional state (`associating`, `disassociating`); Describe shows
//! where it settled (`associated`, `disassociated`).

use store::{Association, AssociationQuery, AssociationState, Store};

use super::access::{authorize, instance_arn};
use super::error::{Ec2Error, from_store};
use super::{Reply, account, filters, ids, locate, profiles, respond, xml};
use crate::request::Call;

fn answer<S>(call: &Call<'_, S>, association: &Association, shown: AssociationState) -> String {
    respond(call, |x| {
        x.node("iamInstanceProfileAssociation", |x| {
            xml::association(x, association, shown)
        });
    })
}

pub async fn associate<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let instance_id = ids::instance_id(root.required_str("InstanceId")?)?;
    let member = root.optional_scope("IamInstanceProfile");
    locate::instance(call, instance_id)
        .await?
        .authorize(call, "ec2:AssociateIamInstanceProfile")
        .await?;
    let arn = instance_arn(call, instance_id);
    let profile = profiles::resolve(call, member).await?;
    profiles::may_pass(call, &profile, &arn).await?;
    let association = call
        .app
        .store()
        .associate_instance_profile(account(call), instance_id, &profiles::reference(&profile))
        .await
        .map_err(from_store)?;
    Ok(answer(call, &association, AssociationState::Associating))
}

pub async fn replace<S: Store>(call: &Call<'_, S>) -> Reply {
    let root = call.input.root();
    let association_id = ids::association_id(root.required_str("AssociationId")?)?;
    let member = root.optional_scope("IamInstanceProfile");
    let (current, _) = locate::association(call, association_id)
        .await?
        .authorize(call, "ec2:ReplaceIamInstanceProfileAssociation")
        .await?;
    let arn = instance_arn(call, &current.instance_id);
    let profile = profiles::resolve(call, member).await?;
    profiles::may_pass(call, &profile, &arn).await?;
    let association = call
        .app
        .store()
        .replace_instance_profile_association(
            account(call),
            association_id,
            &profiles::reference(&profile),
        )
        .await
        .map_err(from_store)?;
    Ok(answer(call, &association, AssociationState::Associating))
}

pub async fn disassociate<S: Store>(call: &Call<'_, S>) -> Reply {
    let association_id = ids::association_id(call.input.required_str("AssociationId")?)?;
    locate::association(call, association_id)
        .await?
        .authorize(call, "ec2:DisassociateIamInstanceProfile")
        .await?;
    let association = call
        .app
        .store()
        .disassociate_instance_profile(account(call), association_id)
        .await
        .map_err(from_store)?;
    Ok(answer(call, &association, AssociationState::Disassociating))
}

pub async fn describe<S: Store>(call: &Call<'_, S>) -> Reply {
    let p = call.input;
    let requested: Vec<String> = p
        .list_str("AssociationId")?
        .into_iter()
        .map(|id| ids::association_id(id).map(str::to_owned))
        .collect::<Result<_, _>>()?;
    let max_results = p.optional_i32("MaxResults", 5..=1000)?;
    let after = match p.optional_str("NextToken") {
        None => None,
        Some(token) => Some(ids::association_id(token).map(str::to_owned).map_err(|_| {
            Ec2Error::InvalidParameterValue(format!("Invalid value '{token}' for nextToken."))
        })?),
    };
    let filters = filters::association_filters(&filters::parse(p)?)?;
    authorize(
        call,
        "ec2:DescribeIamInstanceProfileAssociations",
        "*",
        Vec::new(),
    )
    .await?;
    let found = match filters {
        None => Vec::new(),
        Some((instance_ids, states)) => {
            let query = AssociationQuery {
                ids: requested.clone(),
                instance_ids,
                states,
                after,
                limit: max_results.map(i32::unsigned_abs),
            };
            call.app
                .store()
                .instance_profile_associations(account(call), &query)
                .await
                .map_err(from_store)?
        }
    };
    if let Some(missing) = requested
        .iter()
        .find(|id| !found.iter().any(|a| &a.id == *id))
    {
        return Err(Ec2Error::AssociationNotFound(missing.clone()).into());
    }
    let next = match max_results {
        Some(n) if found.len() == n.unsigned_abs() as usize => found.last().map(|a| a.id.clone()),
        _ => None,
    };
    Ok(respond(call, |x| {
        x.list(
            "iamInstanceProfileAssociationSet",
            "item",
            &found,
            |x, a| xml::association(x, a, a.state),
        )
        .opt_elem("nextToken", next.as_deref());
    }))
}
